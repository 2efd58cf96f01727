package envconf

import (
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"60", time.Minute, true},
		{"0", 0, true},
		{"1m30s", 90 * time.Second, true},
		{"250ms", 250 * time.Millisecond, true},
		{"ten", 0, false},
		{"1.5", 0, false}, // seconds are whole, as in terminationGracePeriodSeconds
		{"", 0, false},
		{"99999999999999999", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestParseNamesTheVariable(t *testing.T) {
	var v struct {
		Grace time.Duration `env:"DRAINIT_GRACE_PERIOD"`
	}
	if err := Parse(&v, map[string]string{"DRAINIT_GRACE_PERIOD": "60"}); err != nil || v.Grace != time.Minute {
		t.Errorf("60: %v, %v", v.Grace, err)
	}
	err := Parse(&v, map[string]string{"DRAINIT_GRACE_PERIOD": "ten"})
	if want := `DRAINIT_GRACE_PERIOD="ten": not ` + DurationForm; err == nil || err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}
