package hooks

import "reflect"

// Setting is one environment variable the drain steps read.
type Setting struct {
	Name, Default string
}

// Settings lists every variable the drain steps read, from their configs'
// env tags, with their defaults (envDefault, or shown where the default
// is a behaviour rather than a value). The help and the README are tested
// against it.
func Settings() []Setting {
	var out []Setting
	for _, cfg := range []any{nacosConfig{}, eurekaConfig{}, consulConfig{}, quietConfig{}} {
		t := reflect.TypeOf(cfg)
		for i := range t.NumField() {
			tag := t.Field(i).Tag
			if name := tag.Get("env"); name != "" {
				def := tag.Get("envDefault")
				if def == "" {
					def = tag.Get("shown")
				}
				out = append(out, Setting{name, def})
			}
		}
	}
	return out
}
