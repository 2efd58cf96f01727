package redact

import (
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	secrets := &Secrets{}
	secrets.Add("s3cr3t-registered")
	tests := []struct{ in, want string }{
		{"http://user:pw@eureka:8761/eureka/apps", "http://user:xxxxx@eureka:8761/eureka/apps"},
		{"GET http://nacos:8848/nacos/v1/ns/instance/list?serviceName=demo&accessToken=abc.def&x=1", "GET http://nacos:8848/nacos/v1/ns/instance/list?serviceName=demo&accessToken=xxxxx&x=1"},
		{`step 1 "http POST http://a/x -H 'Authorization: Bearer abc123'"`, `step 1 "http POST http://a/x -H 'Authorization: Bearer xxxxx'"`},
		{"-H 'X-Consul-Token: 0f3c'", "-H 'X-Consul-Token: xxxxx'"},
		{`HTTP 403: {"accessToken":"eyJhbGci","tokenTtl":18000,"globalAdmin":false}`, `HTTP 403: {"accessToken":"xxxxx","tokenTtl":xxxxx,"globalAdmin":false}`},
		{"username=nacos&password=hunter22", "username=nacos&password=xxxxx"},
		{"sent Bearer abc.def.ghi to it", "sent Bearer xxxxx to it"},
		{"the value s3cr3t-registered leaked", "the value xxxxx leaked"},
		{"http PUT http://a:8080/actuator/serviceregistry", "http PUT http://a:8080/actuator/serviceregistry"},
		{"monkey: banana, keyboard", "monkey: banana, keyboard"}, // "key" inside a longer word with no separator
		{"nothing secret here: 42", "nothing secret here: 42"},
		{`"err":"HTTP 403: {\"accessToken\":\"eyJ\"}"`, `"err":"HTTP 403: {\"accessToken\":\"xxxxx\"}"`}, // inside a JSON log line
	}
	for _, tt := range tests {
		if got := secrets.String(tt.in); got != tt.want {
			t.Errorf("String(%q)\n = %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

func TestStringIsIdempotent(t *testing.T) {
	in := "http://u:p@h/x?token=abc Authorization: Bearer zzz password=q"
	once := Shapes(in)
	if twice := Shapes(once); twice != once {
		t.Errorf("%q then %q", once, twice)
	}
	for _, leak := range []string{":p@", "abc", "zzz", "=q"} {
		if strings.Contains(once, leak) {
			t.Errorf("%q still holds %q", once, leak)
		}
	}
}

func FuzzString(f *testing.F) {
	f.Add("http://u:p@h/x?token=abc")
	f.Add(`{"password":"x"}`)
	f.Fuzz(func(t *testing.T, s string) {
		Shapes(s) // must not panic
	})
}
