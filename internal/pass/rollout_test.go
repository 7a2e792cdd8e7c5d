package pass

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"supervisor/internal/job"
	"supervisor/internal/usage"
)

func jobsFor(endpoints ...string) []job.Spec {
	var specs []job.Spec
	for _, e := range endpoints {
		specs = append(specs, job.Spec{Action: job.ActionMigrate, Endpoint: e})
	}
	return specs
}

// plannedShape is a plan as names, -j, policy, jobs and failed-before, for
// comparison.
type plannedShape struct {
	Name         string
	Jobs         int
	OnError      Policy
	Specs        []string
	FailedBefore []string
}

func shapes(stages []plannedStage) []plannedShape {
	var out []plannedShape
	for _, st := range stages {
		s := plannedShape{Name: st.Name, Jobs: st.Jobs, OnError: st.OnError, FailedBefore: st.failedBefore}
		for _, j := range st.specs {
			s.Specs = append(s.Specs, j.Endpoint)
		}
		out = append(out, s)
	}
	return out
}

// Which product goes into which stage: the first stage whose glob takes it,
// then "rest"; canaries by name or by count (failed ones included); -j
// from the stage or the run; an empty "rest" after other stages dropped.
func TestPlanPutsEachProductInItsFirstStage(t *testing.T) {
	file := []StageSpec{
		{Name: "canary", Products: []string{"a*"}, Jobs: 1, OnError: StopRollout},
		{Name: "libs", Products: []string{"lib*", "a2"}, OnError: StopStage},
		{Name: "empty", Products: []string{"zzz"}, Jobs: 2, OnError: Continue},
	}
	tests := []struct {
		name         string
		rollout      Rollout
		stages       []StageSpec
		specs        []string
		failedBefore []string
		want         []plannedShape
	}{
		{"no rollout: one stage", Rollout{}, nil, []string{"a", "b"}, []string{"c"},
			[]plannedShape{{"rest", 4, Continue, []string{"a", "b"}, []string{"c"}}}},
		{"no products, no rollout", Rollout{}, nil, nil, nil,
			[]plannedShape{{"rest", 4, Continue, nil, nil}}},
		{"stages file, first match wins", Rollout{}, file, []string{"a1", "a2", "b", "libx"}, []string{"liby"},
			[]plannedShape{
				{"canary", 1, StopRollout, []string{"a1", "a2"}, nil},
				{"libs", 4, StopStage, []string{"libx"}, []string{"liby"}},
				{"empty", 2, Continue, nil, nil},
				{"rest", 4, Continue, []string{"b"}, nil},
			}},
		{"stages file covering everything: no rest", Rollout{}, file[:1], []string{"a1", "a2"}, nil,
			[]plannedShape{{"canary", 1, StopRollout, []string{"a1", "a2"}, nil}}},
		{"canary by name", Rollout{Canary: []string{"c", "a"}}, nil, []string{"a", "b", "c", "d"}, nil,
			[]plannedShape{
				{"canary", 4, StopRollout, []string{"a", "c"}, nil},
				{"rest", 4, Continue, []string{"b", "d"}, nil},
			}},
		{"canary count counts failed products too", Rollout{CanaryCount: 2}, nil, []string{"b", "c", "d"}, []string{"a"},
			[]plannedShape{
				{"canary", 4, StopRollout, []string{"b"}, []string{"a"}},
				{"rest", 4, Continue, []string{"c", "d"}, nil},
			}},
		{"canary count past the products", Rollout{CanaryCount: 5}, nil, []string{"a", "b"}, nil,
			[]plannedShape{{"canary", 4, StopRollout, []string{"a", "b"}, nil}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &Fleet{opts: Options{Jobs: 4, Rollout: tt.rollout}, stages: tt.stages}
			if got := shapes(f.plan(jobsFor(tt.specs...), tt.failedBefore)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("plan = %+v,\nwant %+v", got, tt.want)
			}
		})
	}
}

// The stages file: defaults filled in, every mistake an error that says
// what is wrong.
func TestParseStages(t *testing.T) {
	got, err := ParseStages([]byte(`{"stages":[{"name":"canary","products":["a*"],"jobs":1,"on_error":"stop-rollout"},{"products":["*"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := []StageSpec{
		{Name: "canary", Products: []string{"a*"}, Jobs: 1, OnError: StopRollout},
		{Name: "stage 2", Products: []string{"*"}, OnError: Continue},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseStages = %+v, want %+v", got, want)
	}
	bad := []struct{ name, doc, want string }{
		{"not JSON", `stages:`, "parse"},
		{"unknown field", `{"stages":[{"products":["*"],"parallel":2}]}`, "unknown field"},
		{"two values", `{"stages":[{"products":["*"]}]} {}`, "more than one"},
		{"no stages", `{"stages":[]}`, "no stages"},
		{"no products", `{"stages":[{"name":"x"}]}`, `stage "x": no products`},
		{"bad glob", `{"stages":[{"products":["a["]}]}`, `product glob "a["`},
		{"negative jobs", `{"stages":[{"products":["*"],"jobs":-1}]}`, "jobs must not be negative"},
		{"unknown policy", `{"stages":[{"products":["*"],"on_error":"retry"}]}`, `on_error "retry"`},
		{"repeated name", `{"stages":[{"name":"a","products":["*"]},{"name":"a","products":["*"]}]}`, "taken"},
		{"the implicit stage's name", `{"stages":[{"name":"rest","products":["*"]}]}`, "taken"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseStages([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseStages(%s) = %v, want an error with %q", tt.doc, err, tt.want)
			}
		})
	}
}

// Conflicting or wrong rollout options are bad usage (exit 2) found before
// anything is touched.
func TestCheckRolloutIsUsageError(t *testing.T) {
	dir := t.TempDir()
	badFile := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(badFile, []byte(`{"stages":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	goodFile := filepath.Join(dir, "good.json")
	if err := os.WriteFile(goodFile, []byte(`{"stages":[{"products":["a"]}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		r    Rollout
		want string // "" = no error
	}{
		{"nothing", Rollout{}, ""},
		{"a good file", Rollout{StagesFile: goodFile}, ""},
		{"canary and count", Rollout{Canary: []string{"a"}, CanaryCount: 1}, "do not go together"},
		{"canary and stages", Rollout{Canary: []string{"a"}, StagesFile: goodFile}, "do not go together"},
		{"negative count", Rollout{CanaryCount: -1}, "must not be negative"},
		{"unknown canary", Rollout{Canary: []string{"nope"}}, "--canary nope"},
		{"missing file", Rollout{StagesFile: filepath.Join(dir, "none.json")}, "--stages"},
		{"bad file", Rollout{StagesFile: badFile}, "no stages"},
		{"packaged version", Rollout{ToVersion: "001"}, ""},
		{"unknown version", Rollout{ToVersion: "099"}, "not a packaged version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &Fleet{opts: Options{Rollout: tt.r}, Products: products("a", "b")}
			err := f.checkRollout()
			if tt.want == "" {
				if err != nil {
					t.Errorf("checkRollout = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !usage.Is(err) {
				t.Errorf("checkRollout = %v, want a usage error with %q", err, tt.want)
			}
		})
	}
}

// --max-failures N sets StopAfter to N+1, so that the zero Rollout has no
// limit; the rule then lets N failures by and stops at the next.
func TestMaxFailuresFlagValue(t *testing.T) {
	var r Rollout
	if got := newFailFast(Options{Rollout: r}); got.limit != -1 {
		t.Errorf("zero Rollout: limit %d, want -1 (none)", got.limit)
	}
	if err := r.MaxFailures().Set("-1"); err == nil {
		t.Errorf("Set(-1) = nil, want an error")
	}
	for _, n := range []string{"0", "2"} {
		if err := r.MaxFailures().Set(n); err != nil {
			t.Fatal(err)
		}
		if got := r.MaxFailures().String(); got != n {
			t.Errorf("String() after Set(%s) = %q", n, got)
		}
		ff := newFailFast(Options{Rollout: r})
		for i := 0; i < int(r.StopAfter)-1; i++ {
			ff.fail()
		}
		if ff.skip() {
			t.Errorf("--max-failures %s: skips after %d failures", n, r.StopAfter-1)
		}
		ff.fail()
		if !ff.skip() {
			t.Errorf("--max-failures %s: does not skip after %d failures", n, r.StopAfter)
		}
	}
}

// A stage's run tolerates what the run's rule still does; a stage that stops
// on error (stop-stage, stop-rollout) tolerates nothing.
func TestStageRule(t *testing.T) {
	tests := []struct {
		name   string
		run    failFast
		policy Policy
		want   int
	}{
		{"no limit, continue", failFast{limit: -1}, Continue, -1},
		{"no limit, stop-stage", failFast{limit: -1}, StopStage, 0},
		{"no limit, stop-rollout", failFast{limit: -1}, StopRollout, 0},
		{"3 tolerated, 1 seen, continue", failFast{limit: 3, n: 1}, Continue, 2},
		{"2 tolerated, 3 seen, continue", failFast{limit: 2, n: 3}, Continue, 0},
		{"3 tolerated, 1 seen, stop-stage", failFast{limit: 3, n: 1}, StopStage, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := stageRule(tt.run, tt.policy); got.limit != tt.want || got.n != 0 {
				t.Errorf("stageRule(%+v, %s) = %+v, want limit %d, n 0", tt.run, tt.policy, got, tt.want)
			}
		})
	}
}
