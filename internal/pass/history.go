package pass

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	amigrate "ariga.io/atlas/sql/migrate"

	"supervisor/internal/dbconn"
	"supervisor/internal/logging"
	"supervisor/internal/migrate"
	"supervisor/internal/registry"
)

// History is one product's applied files, as its revisions table records
// them (supervisor history).
type History struct {
	Endpoint  string     `json:"endpoint"`
	Revisions []Revision `json:"revisions"`
	// Error says why the revisions could not be read ("" when they were).
	Error string `json:"error,omitempty"`
}

// Revision is one recorded file.
type Revision struct {
	Version     string `json:"version"`
	Description string `json:"description"`
	// Type is "applied" (executed) or "baseline" (recorded, not executed:
	// adoption, migrate --baseline).
	Type       string    `json:"type"`
	ExecutedAt time.Time `json:"executed_at"`
	// DurationMS is how long the file took to execute.
	DurationMS int64  `json:"duration_ms"`
	Hash       string `json:"hash"`
	// Operator is the supervisor version that applied it.
	Operator string `json:"operator"`
}

// History reads every selected product's revisions, in-process, Jobs at a
// time, read-only, in the order of f.Products.
func (f *Fleet) History(ctx context.Context, timeout Timeouts) []History {
	out := make([]History, len(f.Products))
	f.eachProduct(func(i int, p registry.Product) {
		out[i] = History{Endpoint: p.Endpoint, Revisions: []Revision{}}
		revs, err := f.history(ctx, p, timeout)
		if err != nil {
			out[i].Error = logging.OneLine(err.Error())
			return
		}
		for _, r := range revs {
			typ := "applied"
			if r.Type.Has(amigrate.RevisionTypeBaseline) {
				typ = "baseline"
			}
			out[i].Revisions = append(out[i].Revisions, Revision{Version: r.Version, Description: r.Description, Type: typ,
				ExecutedAt: r.ExecutedAt, DurationMS: r.ExecutionTime.Milliseconds(), Hash: r.Hash, Operator: r.OperatorVersion})
		}
	})
	return out
}

func (f *Fleet) history(ctx context.Context, p registry.Product, timeout Timeouts) ([]*amigrate.Revision, error) {
	if p.Err != nil {
		return nil, p.Err
	}
	t := p.Target
	pw, err := f.password(p)
	if err != nil {
		return nil, err
	}
	t.Password = pw.Value
	db, err := dbconn.Open(ctx, t, dbconn.Options{ReadOnly: true, ConnectTimeout: timeout.Connect, BusyTimeout: timeout.Lock, LockTimeout: timeout.Lock})
	if err != nil {
		return nil, errors.New(withPasswordHint(dbconn.Explain(err, timeout.Lock).Error(), pw))
	}
	defer db.Close()
	return migrate.History(ctx, db, t.Dialect)
}

// ShowHistory opens the config database (Open, changing nothing), reads the
// selected products' histories (Fleet.History, waiting for a server or a
// locked SQLite file the default connect timeout) and hands them to show.
// A product whose revisions could not be read is an error after show.
func ShowHistory(ctx context.Context, opts Options, show func([]History) error) error {
	f, err := Open(ctx, opts, Setup{})
	if err != nil {
		return err
	}
	hs := f.History(ctx, Timeouts{Connect: dbconn.DefaultConnectTimeout, Lock: dbconn.DefaultConnectTimeout})
	if err := show(hs); err != nil {
		return err
	}
	var failed []string
	for _, h := range hs {
		if h.Error != "" {
			failed = append(failed, h.Endpoint)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("the revisions of %s could not be read", strings.Join(failed, ", "))
	}
	return nil
}
