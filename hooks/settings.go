package hooks

import "reflect"

// Setting is one environment variable the drain steps read.
type Setting struct {
	Name, Default string
}

// Settings lists every variable the drain steps read: the registry steps'
// (their configs' env tags, with their defaults) and the quiet step's. The
// help and the README are tested against it.
func Settings() []Setting {
	var out []Setting
	for _, cfg := range []any{nacosConfig{}, eurekaConfig{}, consulConfig{}} {
		t := reflect.TypeOf(cfg)
		for i := range t.NumField() {
			if name := t.Field(i).Tag.Get("env"); name != "" {
				out = append(out, Setting{name, t.Field(i).Tag.Get("envDefault")})
			}
		}
	}
	return append(out, quietSettings...)
}

// quietSettings are read from the environment by parseQuiet.
var quietSettings = []Setting{
	{"HOST_IP", ""},
	{"DRAINIT_QUIET_IGNORE", ""},
	{"DRAINIT_QUIET_SOURCE", "netlink"},
	{"DRAINIT_QUIET_OPENS", "true"},
	{"DRAINIT_QUIET_END_IDLE", "true"},
}
