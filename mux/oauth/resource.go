package oauth

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"golang.org/x/oauth2"
)

// withResource returns ctx carrying, for x/oauth2, an HTTP client that adds
// the resource parameter (RFC 8707) to token requests, which the MCP
// authorization spec asks for on every token request and x/oauth2 has no
// option for on a refresh.
func withResource(ctx context.Context, hc *http.Client, resource string) context.Context {
	if hc == nil {
		hc = http.DefaultClient
	}
	if resource == "" {
		return context.WithValue(ctx, oauth2.HTTPClient, hc)
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c := *hc
	c.Transport = resourceParam{resource: resource, base: base}
	return context.WithValue(ctx, oauth2.HTTPClient, &c)
}

// resourceParam adds resource= to form POSTs that lack one.
type resourceParam struct {
	resource string
	base     http.RoundTripper
}

func (t resourceParam) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodPost || r.Body == nil || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		return t.base.RoundTrip(r)
	}
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(string(body))
	if err == nil && !form.Has("resource") {
		form.Set("resource", t.resource)
		body = []byte(form.Encode())
	}
	r = r.Clone(r.Context())
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return t.base.RoundTrip(r)
}
