package pass

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"slices"
	"strconv"

	"supervisor/internal/dbconn"
	"supervisor/internal/job"
	"supervisor/internal/migrate"
	"supervisor/internal/registry"
	"supervisor/schema"
)

// Rollout says how far Migrate takes the products and in what order.
type Rollout struct {
	// ToVersion makes Migrate stop at this packaged version (--to; "" =
	// the latest): a product at or past it is left alone.
	ToVersion string
	// Canary, CanaryCount and StagesFile make Migrate a staged rollout
	// (see plan); at most one of them is set.
	Canary      []string
	CanaryCount int
	StagesFile  string
	// StopAfter (> 0) starts no new product once that many failed, over
	// every stage (--max-failures N is N+1; 0: no limit; --fail-fast is 1).
	StopAfter int
}

// MaxFailures is --max-failures N as a flag value: it sets StopAfter to
// N+1, so that the zero Rollout has no limit.
func (r *Rollout) MaxFailures() *MaxFailures { return (*MaxFailures)(&r.StopAfter) }

// MaxFailures is a flag value (pflag.Value) for Rollout.StopAfter.
type MaxFailures int

func (m *MaxFailures) String() string {
	if *m == 0 {
		return ""
	}
	return strconv.Itoa(int(*m) - 1)
}

// Set takes N >= 0.
func (m *MaxFailures) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return fmt.Errorf("want a count >= 0, not %q", s)
	}
	*m = MaxFailures(n + 1)
	return nil
}

// Type names the value in the help.
func (m *MaxFailures) Type() string { return "N" }

// Policy is what a failure in a stage of a rollout does (--stages).
type Policy string

// The error policies of a stage.
const (
	// Continue: a failure stops nothing (--fail-fast and --max-failures,
	// which count over the whole rollout, still apply).
	Continue Policy = "continue"
	// StopStage: after a failure no new product of the stage starts; the
	// later stages still run.
	StopStage Policy = "stop-stage"
	// StopRollout: after a failure no new product of the stage starts, and
	// no later stage starts.
	StopRollout Policy = "stop-rollout"
)

// StageSpec is one stage of a rollout: the products whose endpoints match
// one of its globs (path.Match, as --product) and that no earlier stage
// took, run Jobs at a time (0: -j), under OnError.
type StageSpec struct {
	Name     string   `json:"name"`
	Products []string `json:"products"`
	Jobs     int      `json:"jobs,omitempty"`
	OnError  Policy   `json:"on_error,omitempty"`
}

// StageResult is what one stage of a rollout came to (the JSON report's
// "stages").
type StageResult struct {
	Name     string   `json:"name"`
	Products []string `json:"products"`
	OK       int      `json:"ok"`
	Failed   int      `json:"failed"`
	// Skipped counts its products never started (an earlier failure, an
	// interrupt).
	Skipped int `json:"skipped"`
	// StoppedRollout says that this stage's failure left the later stages
	// unstarted.
	StoppedRollout bool `json:"stopped_rollout"`
}

// restStage is the implicit last stage: the products no stage of --stages
// (or --canary) took, at -j, under the run's own --fail-fast and
// --max-failures.
const restStage = "rest"

// canaryStage is the stage --canary and --canary-count make.
const canaryStage = "canary"

// reasonCanary is why a product after a failed canary was not started.
const reasonCanary = "not started: a canary failed"

// ParseStages reads a --stages file: {"stages": [StageSpec...]}. Unknown
// fields, an empty list, a stage without products, a bad glob, a negative
// jobs, an unknown policy and a repeated name are errors; a missing name is
// "stage N", a missing on_error continue.
func ParseStages(data []byte) ([]StageSpec, error) {
	var doc struct {
		Stages []StageSpec `json:"stages"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("parse: more than one JSON value")
	}
	if len(doc.Stages) == 0 {
		return nil, fmt.Errorf(`no stages (want {"stages": [{"name": ..., "products": [...]}, ...]})`)
	}
	names := map[string]bool{}
	for i := range doc.Stages {
		s := &doc.Stages[i]
		if s.Name == "" {
			s.Name = fmt.Sprintf("stage %d", i+1)
		}
		if names[s.Name] || s.Name == restStage {
			return nil, fmt.Errorf("stage %q: the name is taken", s.Name)
		}
		names[s.Name] = true
		if len(s.Products) == 0 {
			return nil, fmt.Errorf("stage %q: no products (endpoint globs)", s.Name)
		}
		for _, g := range s.Products {
			if _, err := path.Match(g, ""); err != nil {
				return nil, fmt.Errorf("stage %q: product glob %q: %w", s.Name, g, err)
			}
		}
		if s.Jobs < 0 {
			return nil, fmt.Errorf("stage %q: jobs must not be negative", s.Name)
		}
		switch s.OnError {
		case "":
			s.OnError = Continue
		case Continue, StopStage, StopRollout:
		default:
			return nil, fmt.Errorf("stage %q: on_error %q: want continue, stop-stage or stop-rollout", s.Name, s.OnError)
		}
	}
	return doc.Stages, nil
}

// checkRollout checks the rollout options against the selected products
// (bad usage, before anything is touched) and reads the stages file.
func (f *Fleet) checkRollout() error {
	o := f.opts
	n := 0
	for _, set := range []bool{len(o.Canary) > 0, o.CanaryCount > 0, o.StagesFile != ""} {
		if set {
			n++
		}
	}
	if n > 1 {
		return usagef("--canary, --canary-count and --stages do not go together: choose one")
	}
	if o.CanaryCount < 0 {
		return usagef("--canary-count must not be negative")
	}
	for _, e := range o.Canary {
		if !slices.ContainsFunc(f.Products, func(p registry.Product) bool { return p.Endpoint == e }) {
			if o.Shard.Count > 0 {
				// A canary gates only its own shard: the others run apart.
				return usagef("--canary %s: not a selected product of shard %s (a canary gates only its own shard; --canary-count K takes K in each)", e, o.Shard.String())
			}
			return usagef("--canary %s: no such product among the selected ones", e)
		}
	}
	if o.StagesFile != "" {
		data, err := os.ReadFile(o.StagesFile)
		if err != nil {
			return usagef("--stages: %v", err)
		}
		if f.stages, err = ParseStages(data); err != nil {
			return usagef("--stages %s: %v", o.StagesFile, err)
		}
	}
	if o.ToVersion != "" {
		for _, d := range []dbconn.Dialect{dbconn.SQLite, dbconn.Postgres} {
			if !slices.Contains(packagedVersions(d), o.ToVersion) {
				return usagef("--to %s: not a packaged version (%s has %v)", o.ToVersion, d, packagedVersions(d))
			}
		}
	}
	return nil
}

// packagedVersions are the versions of the packaged product schema of d.
func packagedVersions(d dbconn.Dialect) []string {
	dir, err := migrate.Dir(schema.Product, d)
	if err != nil {
		return nil
	}
	files, err := dir.Files()
	if err != nil {
		return nil
	}
	var vs []string
	for _, f := range files {
		vs = append(vs, f.Version())
	}
	return vs
}

// plannedStage is one stage, the jobs it runs and the products of it the
// supervisor found failing before any worker (unreadable, not upgradable),
// in endpoint order.
type plannedStage struct {
	StageSpec
	specs        []job.Spec
	failedBefore []string
}

// plan puts each product of the run, in endpoint order, into the first
// stage that takes it: the --stages file's, or a canary stage (--canary:
// those endpoints; --canary-count K: the first K products the run would
// upgrade, failed ones included), then the implicit stage "rest" for what
// no stage took. No rollout option: one stage, "rest". The products are
// specs (the jobs) and failedBefore (the endpoints the supervisor found
// failing before any worker). Empty stages of the file are kept (the
// report says so); an empty "rest" after other stages is dropped.
func (f *Fleet) plan(specs []job.Spec, failedBefore []string) []plannedStage {
	stages := slices.Clone(f.stages)
	switch {
	case len(f.opts.Canary) > 0:
		stages = []StageSpec{{Name: canaryStage, Products: f.opts.Canary, OnError: StopRollout}}
	case f.opts.CanaryCount > 0:
		eps := slices.Clone(failedBefore)
		for _, s := range specs {
			eps = append(eps, s.Endpoint)
		}
		slices.Sort(eps)
		eps = eps[:min(f.opts.CanaryCount, len(eps))]
		stages = []StageSpec{{Name: canaryStage, Products: eps, OnError: StopRollout}}
	}
	out := make([]plannedStage, len(stages)+1)
	for i, s := range stages {
		out[i].StageSpec = s
	}
	out[len(stages)].StageSpec = StageSpec{Name: restStage, Products: []string{"*"}, OnError: Continue}
	// stageOf is the index in out of the first stage that takes endpoint.
	stageOf := func(endpoint string) int {
		i := slices.IndexFunc(stages, func(st StageSpec) bool {
			return matches(st.Products, endpoint) || slices.Contains(st.Products, endpoint)
		})
		if i < 0 {
			return len(stages)
		}
		return i
	}
	for _, s := range specs {
		i := stageOf(s.Endpoint)
		out[i].specs = append(out[i].specs, s)
	}
	for _, e := range failedBefore {
		i := stageOf(e)
		out[i].failedBefore = append(out[i].failedBefore, e)
	}
	if rest := out[len(stages)]; len(stages) > 0 && len(rest.specs)+len(rest.failedBefore) == 0 {
		out = out[:len(stages)]
	}
	for i := range out {
		if out[i].Jobs == 0 {
			out[i].Jobs = f.opts.Jobs
		}
	}
	return out
}

// staged says whether the run is a staged rollout (the report then lists
// its stages).
func (f *Fleet) staged() bool {
	return len(f.opts.Canary) > 0 || f.opts.CanaryCount > 0 || len(f.stages) > 0
}
