// Package kube is what drainit asks of the Kubernetes API about its own
// pod, with the pod's service account: the kubelet's real deadline when
// the stop begins (Deadline), and the drain told as Events on the pod
// (Post). Two calls, a few lines of net/http with the in-cluster token and
// CA: client-go would add about 10 MB to a 7 MB binary (measured, see the
// closing note of the issue and docs/design.md).
//
// It reads, as the Downward API and the service account mount give them:
//
//	POD_NAME, POD_NAMESPACE   the pod (else $HOSTNAME, and the mount's namespace file)
//	KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT   the API server
//	/var/run/secrets/kubernetes.io/serviceaccount/{token,ca.crt,namespace}
package kube

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/drainit/drainit/internal/httpx"
)

// accountDir is where the kubelet mounts the service account.
var accountDir = "/var/run/secrets/kubernetes.io/serviceaccount"

// Client calls the API server about one pod.
type Client struct {
	base      string // https://host:port
	namespace string
	pod       string
	tokenFile string
	http      *http.Client
}

// ErrNotInPod says there is no service account mount or API address:
// drainit runs outside Kubernetes, or the pod mounts no token.
var ErrNotInPod = errors.New("not in a pod with a service account token (automountServiceAccountToken, KUBERNETES_SERVICE_HOST)")

// FromEnvironment builds a client from the pod's environment and mounts.
func FromEnvironment(environ map[string]string) (*Client, error) {
	host, port := environ["KUBERNETES_SERVICE_HOST"], environ["KUBERNETES_SERVICE_PORT"]
	tokenFile := accountDir + "/token"
	if host == "" || port == "" {
		return nil, ErrNotInPod
	}
	if _, err := os.Stat(tokenFile); err != nil {
		return nil, ErrNotInPod
	}
	ca, err := os.ReadFile(accountDir + "/ca.crt")
	if err != nil {
		return nil, fmt.Errorf("the service account's CA: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(ca) {
		return nil, errors.New("the service account's ca.crt holds no certificate")
	}
	c := &Client{
		base:      "https://" + net.JoinHostPort(host, port),
		namespace: environ["POD_NAMESPACE"],
		pod:       httpx.FirstSet(environ["POD_NAME"], environ["HOSTNAME"]),
		tokenFile: tokenFile,
		http: &http.Client{Transport: &http.Transport{
			TLSClientConfig:        &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
			DisableKeepAlives:      true,
			MaxResponseHeaderBytes: 64 << 10,
		}},
	}
	if c.namespace == "" {
		data, _ := os.ReadFile(accountDir + "/namespace")
		c.namespace = strings.TrimSpace(string(data))
	}
	if c.namespace == "" || c.pod == "" {
		return nil, errors.New("the pod's name or namespace is unknown: set POD_NAME and POD_NAMESPACE from the Downward API")
	}
	return c, nil
}

// Pod is the pod's namespace/name, for the log.
func (c *Client) Pod() string { return c.namespace + "/" + c.pod }

// maxBody bounds what is read of an answer: a pod is a few kilobytes.
const maxBody = 1 << 20

// call makes one request; the answer's body, and the server's Date.
func (c *Client) call(ctx context.Context, method, path string, body io.Reader, contentType string) ([]byte, time.Time, error) {
	token, err := os.ReadFile(c.tokenFile) // projected tokens rotate: read each time
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("the service account token: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, time.Time{}, err
	}
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, time.Time{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	date, _ := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		return nil, date, err
	}
	if resp.StatusCode/100 != 2 {
		return data, date, &StatusError{Code: resp.StatusCode, Message: apiMessage(data)}
	}
	return data, date, nil
}

// StatusError is the API server's refusal.
type StatusError = httpx.StatusError

// Forbidden reports whether err is the API server refusing the pod's
// service account (no Role for it).
func Forbidden(err error) bool {
	return httpx.IsStatus(err, http.StatusForbidden, http.StatusUnauthorized)
}

// apiMessage is the message of a metav1.Status, or the body's start.
func apiMessage(data []byte) string {
	var status struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(data, &status) == nil && status.Message != "" {
		return status.Message
	}
	text := strings.Join(strings.Fields(string(data[:min(len(data), 200)])), " ")
	return text
}
