package kube

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// Event is one Kubernetes Event on drainit's pod.
type Event struct {
	Type    string // Normal or Warning
	Reason  string
	Message string
}

// Post records e on the pod. An Event's name comes from the pod, the type
// and the reason, not the message, which carries each stop's timings: a
// pod that stops again (a container restart) updates its Event, whose
// count goes up and whose message is the last one, as a series of
// Kubernetes' own events does, instead of adding an object per stop.
func (c *Client) Post(ctx context.Context, uid string, e Event) error {
	now := time.Now().UTC().Format(time.RFC3339)
	sum := sha256.Sum256([]byte(uid + "\x00" + e.Type + "\x00" + e.Reason))
	name := c.pod + ".drainit." + hex.EncodeToString(sum[:6])
	obj := map[string]any{
		"apiVersion": "v1", "kind": "Event",
		"metadata": map[string]any{"name": name, "namespace": c.namespace},
		"involvedObject": map[string]any{"apiVersion": "v1", "kind": "Pod", "name": c.pod,
			"namespace": c.namespace, "uid": uid},
		"type": e.Type, "reason": e.Reason, "message": e.Message,
		"source":             map[string]any{"component": "drainit"},
		"reportingComponent": "drainit", "reportingInstance": c.pod,
		"firstTimestamp": now, "lastTimestamp": now, "count": 1,
	}
	body, _ := json.Marshal(obj)
	path := "/api/v1/namespaces/" + c.namespace + "/events"
	_, _, err := c.call(ctx, "POST", path, bytes.NewReader(body), "application/json")
	var status *StatusError
	if !errors.As(err, &status) || status.Code != http.StatusConflict {
		return err
	}
	return c.bump(ctx, path+"/"+name, now, e.Message)
}

// bump adds one to the count of an Event that exists, with the new
// message.
func (c *Client) bump(ctx context.Context, path, now, message string) error {
	data, _, err := c.call(ctx, "GET", path, nil, "")
	if err != nil {
		return err
	}
	var existing struct {
		Count int `json:"count"`
	}
	if err := json.Unmarshal(data, &existing); err != nil {
		return err
	}
	patch, _ := json.Marshal(map[string]any{"count": existing.Count + 1, "lastTimestamp": now, "message": message})
	_, _, err = c.call(ctx, "PATCH", path, bytes.NewReader(patch), "application/merge-patch+json")
	return err
}
