package fleet

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
)

// Shape of the generated content. The numbers follow the fixture
// product-sample.sqlite, which follows real products.
const (
	reportsPerFile = 10 // fresh bugs per used file
	copyPercent    = 45 // share of a later run's reports that repeat a bug of the project's first run
	otherFilePct   = 15 // share of non-final path steps that sit in another file of the project
	commentPct     = 5  // share of bugs with user comments
	extPct         = 7  // share of bugs with extended data (notes, macros, fixits)
	annotationPct  = 5  // share of bugs with report annotations
	setItemPct     = 30 // share of all checkers in one checker set
	ccVersion      = "6.27.0"
	workspace      = "/home/ci/workspace/"
	noStamp        = stamp(0)
	reviewNone     = 0
	reviewConfirm  = 1
	reviewFalsePos = 2
	reviewIntent   = 3
)

var (
	detectionStatuses = []string{"new", "unresolved", "resolved", "reopened", "off", "unavailable"}
	// detectionWeights are per mille, in detectionStatuses order.
	detectionWeights = []int{300, 440, 160, 40, 30, 30}
	reviewStatuses   = []string{"unreviewed", "confirmed", "false_positive", "intentional"}
	extTypes         = []string{"note", "macro", "fixit"}
	analyzers        = []string{"clangsa", "clang-tidy", "cppcheck"}
	// epoch is when the first run's first store happened.
	epoch = date(2025, 9, 1, 8, 0)
)

type (
	// gen holds the state of one Fill.
	gen struct {
		o   Options
		rng *rand.Rand
		be  backend
		l   *loader
		g   Garbage

		checkerIDs []int64 // id of knownCheckers[i]
		checkerMix []int   // knownCheckers indices, most frequent first

		projects    []*project
		runs        []*runPlan
		bugs        []bug
		files       []fileRow // every file row, garbage included, in id order
		nextSetID   int64
		nextAIID    int64
		liveSets    []int64 // checker sets live analysis_info uses
		garbageSets []int64 // checker sets no live analysis_info uses
		garbageAI   int     // garbage analysis_info rows to plant
		garbageAt   []int64 // ids of garbage files
	}

	project struct {
		idx      int
		name     string
		runs     []*runPlan
		sets     [2]int64 // checker sets: before and after a configuration change
		used     []int64  // ids of the files its reports use
		garbage  int      // garbage files of this project
		firstBug int      // index in gen.bugs of its first bug
		firstRun int      // bugs of its first run: gen.bugs[firstBug:firstBug+firstRun]
		fresh    int      // bugs (distinct findings) of the project
	}

	runPlan struct {
		id       int64
		proj     *project
		name     string
		reports  int
		hist     []int64 // run history ids, oldest first
		histTime []stamp // when each history was stored
		ctu      []bool  // whether a history has a second (CTU) analysis info
		from, to stamp   // when the run was stored first and last
		lastAI   int64   // analysis info of the latest store
		firstAI  int64   // analysis info of the first store
		extraAI  int64   // analysis info only reports link to (0 if none)
		inst     []inst
		reportID int64 // id of its first report
	}

	// bug is one finding; runs of the same project share some.
	bug struct {
		hash       string
		file       int32 // index into project.used
		line, col  int32
		checker    int32 // index into knownCheckers
		shape      uint64
		review     uint8
		inSource   bool
		reviewer   uint8
		reviewMsg  uint8
		comments   uint8
		ext        uint8
		annotated  bool
		reviewDate stamp
	}

	// inst is a report: a bug as one run saw it.
	inst struct {
		bug      int32
		fileID   int64
		status   uint8
		detected stamp
		fixed    stamp
	}

	fileRow struct {
		id      int64
		proj    int
		j       int  // index among the project's used or garbage files
		garbage bool // used by no report
		content int64
	}
)

// generate writes all content through be and returns the garbage it
// planted.
func generate(ctx context.Context, be backend, o Options, pre preState) (Garbage, error) {
	gn := &gen{
		o:   o,
		rng: rand.New(rand.NewPCG(uint64(o.Seed), 0x6a09e667f3bcc909)),
		be:  be,
	}
	gn.l = newLoader(ctx, be)
	err := gn.run(pre)
	if cerr := gn.l.close(); cerr != nil {
		err = cerr // the write error is the cause; generation stopped because of it
	}
	if err != nil {
		return Garbage{}, err
	}
	return gn.g, nil
}

func (gn *gen) run(pre preState) error {
	steps := []func() error{
		func() error { return gn.writeCheckers(pre.checkers) },
		gn.planRuns,
		gn.planReports,
		gn.writeCheckerSets,
		gn.writeRuns,
		gn.writeAnalysisInfo,
		gn.writeFiles,
		gn.writeReports,
		gn.writePaths,
		gn.writeReportExtras,
		gn.writeComments,
		gn.writeMisc,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
		if err := gn.l.failed(); err != nil {
			return err
		}
	}
	return nil
}

// planted returns how many rows of a garbage kind to plant next to live
// ones: the garbage fraction of it, but at least one.
func (gn *gen) planted(live int) int {
	if gn.o.Reports == 0 {
		return 0
	}
	return max(1, int(math.Round(gn.o.Garbage*float64(live))))
}

// hexHash returns a deterministic lowercase hex digest of n bytes (at most
// 32) for the given purpose and number.
func (gn *gen) hexHash(what string, n int64, size int) string {
	sum := sha256.Sum256([]byte("fleet/" + strconv.FormatInt(gn.o.Seed, 10) + "/" + what + "/" + strconv.FormatInt(n, 10)))
	return hex.EncodeToString(sum[:size])
}

// randomHash returns a bug hash from the generator's stream.
func (gn *gen) randomHash() string {
	var b [16]byte
	for i := range b {
		b[i] = byte(gn.rng.Uint32())
	}
	return hex.EncodeToString(b[:])
}

func (gn *gen) writeCheckers(existing []existingChecker) error {
	type key struct{ analyzer, name string }
	have := map[key]int64{}
	var maxID int64
	for _, c := range existing {
		have[key{c.analyzer, c.name}] = c.id
		maxID = max(maxID, c.id)
	}
	b := gn.l.batch(tCheckers)
	gn.checkerIDs = make([]int64, len(knownCheckers))
	for i, c := range knownCheckers {
		if id, ok := have[key{c.analyzer, c.name}]; ok {
			gn.checkerIDs[i] = id
			continue
		}
		maxID++
		gn.checkerIDs[i] = maxID
		b.add(maxID, c.analyzer, c.name, int64(c.severity))
	}
	gn.checkerMix = gn.rng.Perm(len(knownCheckers))
	return b.flush()
}

// planRuns decides the runs, their projects, report counts and histories.
func (gn *gen) planRuns() error {
	nRuns := gn.o.Runs
	nProj := min(len(projects), max(1, (nRuns+1)/2))
	for p := range nProj {
		gn.projects = append(gn.projects, &project{idx: p, name: projects[p]})
	}
	weights := make([]float64, nRuns)
	var sum float64
	for k := range weights {
		weights[k] = 0.7 + 0.6*gn.rng.Float64()
		sum += weights[k]
	}
	left := gn.o.Reports
	var histID int64
	var liveAI int
	for k := range nRuns {
		proj := gn.projects[k%nProj]
		round := k / nProj
		branch := branches[round%len(branches)]
		if round >= len(branches) {
			branch += "-" + strconv.Itoa(round/len(branches))
		}
		r := &runPlan{id: int64(k + 1), proj: proj, name: proj.name + "/" + branch}
		r.reports = int(float64(gn.o.Reports) * weights[k] / sum)
		left -= r.reports
		nh := 2 + gn.rng.IntN(3)
		start := epoch + stamp(k)*day + stamp(gn.rng.IntN(8*60))*minute
		for j := range nh {
			histID++
			r.hist = append(r.hist, histID)
			r.ctu = append(r.ctu, gn.rng.IntN(100) < 30)
			liveAI++
			if r.ctu[j] {
				liveAI++
			}
			t := start + stamp(j)*3*day + stamp(gn.rng.IntN(10))*hour + stamp(gn.rng.IntN(60))*minute
			r.histTime = append(r.histTime, t)
			if j == 0 {
				r.from = t
			}
			r.to = t
		}
		proj.runs = append(proj.runs, r)
		gn.runs = append(gn.runs, r)
	}
	for k := 0; left > 0; k = (k + 1) % nRuns {
		gn.runs[k].reports++
		left--
	}
	gn.garbageAI = gn.planted(liveAI)
	return nil
}

// planReports decides every bug and report, and the files they sit in.
func (gn *gen) planReports() error {
	rng := gn.rng
	// First pass: which reports of later runs repeat a bug of the first run.
	for _, p := range gn.projects {
		first := p.runs[0].reports
		for k, r := range p.runs {
			r.inst = make([]inst, r.reports)
			for i := range r.inst {
				if k > 0 && first > 0 && rng.IntN(100) < copyPercent {
					r.inst[i].bug = -2 // a copy, picked below
					continue
				}
				r.inst[i].bug = -1
				p.fresh++
			}
		}
	}

	// Files: enough used ones per project for its bugs, then the garbage
	// share of all files, spread over the projects. Each project's garbage
	// files follow its used ones.
	var used int
	for _, p := range gn.projects {
		used += (p.fresh + reportsPerFile - 1) / reportsPerFile
	}
	var garbage int
	if used > 0 {
		garbage = max(1, int(math.Round(float64(used)*gn.o.Garbage/(1-gn.o.Garbage))))
	}
	left := garbage
	for _, p := range gn.projects {
		n := (p.fresh + reportsPerFile - 1) / reportsPerFile
		p.used = make([]int64, n)
		p.garbage = garbage * n / max(used, 1)
		left -= p.garbage
	}
	for _, p := range gn.projects {
		if len(p.used) > 0 {
			p.garbage += left // the rounding remainder
			break
		}
	}
	var fileID int64
	for _, p := range gn.projects {
		for j := range p.used {
			fileID++
			p.used[j] = fileID
			gn.files = append(gn.files, fileRow{id: fileID, proj: p.idx, j: j, content: fileID})
		}
		for j := range p.garbage {
			fileID++
			gn.files = append(gn.files, fileRow{id: fileID, proj: p.idx, j: j, garbage: true, content: fileID})
			gn.garbageAt = append(gn.garbageAt, fileID)
		}
	}
	gn.g.Files = int64(garbage)

	// Second pass: the bugs themselves.
	for _, p := range gn.projects {
		p.firstBug = len(gn.bugs)
		p.firstRun = p.runs[0].reports
		var freshIdx int
		var repeat []int // a later run repeats each first-run bug at most once
		for k, r := range p.runs {
			if k > 0 {
				repeat = rng.Perm(p.firstRun)
			}
			var repeated int
			for i := range r.inst {
				in := &r.inst[i]
				if in.bug == -2 {
					in.bug = int32(p.firstBug + repeat[repeated%len(repeat)])
					repeated++
				} else {
					in.bug = int32(len(gn.bugs))
					gn.bugs = append(gn.bugs, gn.newBug(r, len(p.used), freshIdx))
					freshIdx++
				}
				b := &gn.bugs[in.bug]
				in.fileID = p.used[b.file]
				gn.detect(r, in)
			}
			// Reports of one store come file by file.
			slices.SortStableFunc(r.inst, func(a, b inst) int {
				if c := cmp.Compare(a.fileID, b.fileID); c != 0 {
					return c
				}
				return cmp.Compare(gn.bugs[a.bug].line, gn.bugs[b.bug].line)
			})
		}
	}
	var id int64 = 1
	for _, r := range gn.runs {
		r.reportID = id
		id += int64(len(r.inst))
	}
	return nil
}

// newBug makes the freshIdx-th distinct finding of a project with nFiles
// used files. The first nFiles findings cover every file once, so that no
// used file ends up unused.
func (gn *gen) newBug(r *runPlan, nFiles, freshIdx int) bug {
	rng := gn.rng
	b := bug{
		hash:  gn.randomHash(),
		line:  int32(5 + rng.IntN(400)),
		col:   int32(1 + rng.IntN(60)),
		shape: rng.Uint64(),
	}
	if freshIdx < nFiles {
		b.file = int32(freshIdx)
	} else {
		x := rng.Float64()
		b.file = int32(x * x * float64(nFiles)) // a few files collect many reports
	}
	x := rng.Float64()
	b.checker = int32(gn.checkerMix[int(x*x*x*float64(len(gn.checkerMix)))])
	switch v := rng.IntN(100); {
	case v < 85:
	case v < 92:
		b.review = reviewConfirm
	case v < 97:
		b.review = reviewFalsePos
	default:
		b.review = reviewIntent
	}
	if b.review != reviewNone {
		b.inSource = rng.IntN(100) < 35
		b.reviewer = uint8(rng.IntN(len(users)))
		b.reviewMsg = uint8(rng.IntN(len(reviewMessages)))
		b.reviewDate = r.from + stamp(rng.Int64N(int64(20*day)))
	}
	if rng.IntN(100) < commentPct {
		b.comments = uint8(1 + rng.IntN(3))
	}
	if rng.IntN(100) < extPct {
		b.ext = uint8(1 + rng.IntN(2))
	}
	b.annotated = rng.IntN(100) < annotationPct
	return b
}

// detect decides how run r saw the report: its detection status and dates.
func (gn *gen) detect(r *runPlan, in *inst) {
	rng := gn.rng
	v := rng.IntN(1000)
	for s, w := range detectionWeights {
		if v < w {
			in.status = uint8(s)
			break
		}
		v -= w
	}
	in.detected = r.from + stamp(rng.Int64N(int64(r.to-r.from)+1))
	in.detected += stamp(rng.IntN(1e6)) // microseconds, as real stores have
	switch detectionStatuses[in.status] {
	case "resolved", "off", "unavailable":
		in.fixed = in.detected + stamp(1+rng.IntN(10))*day + stamp(rng.IntN(24))*hour
	}
}

// writeCheckerSets writes the live checker sets (two per project), the
// garbage ones no analysis info uses, and the sets of their own that some
// garbage analysis info gets.
func (gn *gen) writeCheckerSets() error {
	sets := gn.l.batch(tCheckerSet)
	items := gn.l.batch(tCheckerSetItems)
	newSet := func() (id, n int64) {
		gn.nextSetID++
		id = gn.nextSetID
		sets.add(id, gn.hexHash("checker-set", id, 32))
		for i := range knownCheckers {
			if gn.rng.IntN(100) < setItemPct {
				items.add(id, gn.checkerIDs[i], gn.be.flag(gn.rng.IntN(100) < 85))
				n++
			}
		}
		return id, n
	}
	for _, p := range gn.projects {
		for i := range p.sets {
			p.sets[i], _ = newSet()
			gn.liveSets = append(gn.liveSets, p.sets[i])
		}
	}
	garbage := gn.planted(len(gn.liveSets))
	for i := range gn.garbageAI {
		if i%3 == 0 {
			garbage++
		}
	}
	for range garbage {
		id, n := newSet()
		gn.garbageSets = append(gn.garbageSets, id)
		gn.g.CheckerSets++
		gn.g.CheckerSetItems += n
	}
	if err := sets.flush(); err != nil {
		return err
	}
	return items.flush()
}

func (gn *gen) writeRuns() error {
	runs := gn.l.batch(tRuns)
	hist := gn.l.batch(tRunHistories)
	stats := gn.l.batch(tAnalyzerStatistics)
	bl := blobs()
	var statID int64
	for k, r := range gn.runs {
		canDelete := k != len(gn.runs)-1 // the last run is protected
		runs.add(r.id, gn.be.stamp(r.to), int64(600+gn.rng.IntN(3000)), r.name, ccVersion, gn.be.flag(canDelete))
		for j, hid := range r.hist {
			var tag, desc any
			if j > 0 {
				tag = fmt.Sprintf("build-%d", 1000+10*int(r.id)+j)
			}
			if j%2 == 1 {
				desc = "nightly"
			}
			hist.add(hid, r.id, tag, users[gn.rng.IntN(len(users))], gn.be.stamp(r.histTime[j]), ccVersion, desc)
			for _, a := range analyzers {
				statID++
				version := bl.clangVersion
				if a == "cppcheck" {
					version = bl.cppcheckVersion
				}
				var failed int64
				var failedFiles any
				if gn.rng.IntN(4) == 0 {
					failed = int64(1 + gn.rng.IntN(3))
					failedFiles = bl.failed
				}
				stats.add(statID, hid, a, version, int64(100+gn.rng.IntN(900)), failed, failedFiles)
			}
		}
	}
	for _, b := range []*batch{runs, hist, stats} {
		if err := b.flush(); err != nil {
			return err
		}
	}
	return nil
}

// writeAnalysisInfo writes the analysis info of every store, their links to
// the run histories, and the garbage analysis info.
func (gn *gen) writeAnalysisInfo() error {
	ai := gn.l.batch(tAnalysisInfo)
	links := gn.l.batch(tRunHistoryAnalysisInfo)
	newAI := func(p *project, extra string, set any) int64 {
		gn.nextAIID++
		cmd := fmt.Sprintf("CodeChecker analyze %s%s/build/compile_commands.json -o reports --analyzers clangsa clang-tidy cppcheck --jobs 8%s", workspace, p.name, extra)
		ai.add(gn.nextAIID, blob("analysis_info.analyzer_command", cmd), set)
		return gn.nextAIID
	}
	for _, r := range gn.runs {
		for j, hid := range r.hist {
			set := r.proj.sets[min(j, 1)]
			first := newAI(r.proj, "", set)
			links.add(hid, first)
			if j == 0 {
				r.firstAI = first
			}
			if j == len(r.hist)-1 {
				r.lastAI = first
			}
			if r.ctu[j] {
				links.add(hid, newAI(r.proj, " --ctu", set))
			}
		}
	}
	// One analysis info that only reports link to (its history was
	// replaced): live, although no history names it.
	if r := gn.runs[0]; r.reports > 0 {
		r.extraAI = newAI(r.proj, " --stats", r.proj.sets[0])
	}
	// Garbage: by turns with a set of its own, with none, and with a live
	// set.
	own := gn.garbageSets[len(gn.garbageSets)-(gn.garbageAI+2)/3:]
	for i := range gn.garbageAI {
		p := gn.projects[i%len(gn.projects)]
		switch i % 3 {
		case 0:
			newAI(p, " --old", own[i/3])
		case 1:
			newAI(p, " --old", nil)
		default:
			newAI(p, " --old", p.sets[0])
		}
		gn.g.AnalysisInfo++
	}
	if err := ai.flush(); err != nil {
		return err
	}
	return links.flush()
}
