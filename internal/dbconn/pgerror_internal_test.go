package dbconn

import (
	"fmt"
	"strings"
	"testing"
)

// No password reaches a connection error's message, however the error
// quotes it: verbatim, in a keyword/value string, or in a URL.
func TestConnectErrorRedactsPasswords(t *testing.T) {
	const pw = `it's "a" s3cret`
	tests := []struct {
		name string
		err  error
	}{
		{"verbatim", fmt.Errorf("server said: bad secret %s", pw)},
		{"keyword/value", fmt.Errorf("cannot parse `host=h password=hunter2 user=u`: x")},
		{"quoted keyword/value", fmt.Errorf(`cannot parse "host=h password='hun ter2' user=u"`)},
		{"URL", fmt.Errorf("cannot parse postgres://u:hunter2@h:5432/d")},
		{"several lines", fmt.Errorf("first\n\tsecond %s", pw)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := connectError(tt.err, pw).Error()
			for _, secret := range []string{pw, "s3cret", "hunter2", "hun ter2"} {
				if strings.Contains(msg, secret) {
					t.Errorf("message %q holds %q", msg, secret)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("message %q spans lines", msg)
			}
			if !strings.Contains(msg, "xxxxx") {
				t.Errorf("message %q does not show where the password was", msg)
			}
		})
	}
}
