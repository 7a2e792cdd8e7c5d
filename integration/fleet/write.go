package fleet

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// splitmix is a tiny deterministic stream, seeded per report: the path of a
// report is derived from its bug's shape alone, so that every run repeating
// the bug repeats its path too, and nothing has to be stored.
type splitmix uint64

func (s *splitmix) next() uint64 {
	*s += 0x9e3779b97f4a7c15
	z := uint64(*s)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (s *splitmix) intn(n int) int { return int(s.next() % uint64(n)) }

// Salts for the per-bug streams, one per use.
const (
	saltEvents   = 0x1
	saltPoints   = 0x2
	saltExtras   = 0x3
	saltComments = 0x4
)

func stream(shape, salt uint64) splitmix { return splitmix(shape ^ salt*0x2545f4914f6cdd1d) }

// pathLen is the number of bug path events of a bug: 1 to 5, 2.12 on
// average.
func pathLen(shape uint64) int {
	switch v := shape % 100; {
	case v < 40:
		return 1
	case v < 70:
		return 2
	case v < 85:
		return 3
	case v < 93:
		return 4
	default:
		return 5
	}
}

// pointsLen is the number of bug report points of a bug: 1 to 4, 2.0 on
// average.
func pointsLen(shape uint64) int {
	switch v := (shape >> 8) % 100; {
	case v < 35:
		return 1
	case v < 75:
		return 2
	case v < 90:
		return 3
	default:
		return 4
	}
}

// contentHash is the content_hash of content n: a SHA-256 hex digest, like
// CodeChecker's (of a name, not of the blob: contents share a few blobs).
func (gn *gen) contentHash(n int64) string { return gn.hexHash("content", n, 32) }

// filePath returns the path and name of a file row. Every twentieth used
// file is a second version of the one before it: same path, other content.
func (gn *gen) filePath(f fileRow) (path, name string) {
	p := gn.projects[f.proj]
	root := workspace + p.name
	if f.garbage {
		name = words[(f.j*7+p.idx)%len(words)] + "_" + strconv.Itoa(f.j) + ".c"
		return root + "/src/legacy/" + name, name
	}
	v := f.j
	if v%20 == 19 {
		v--
	}
	base := words[(v*7+p.idx)%len(words)] + "_" + strconv.Itoa(v)
	if v%5 == 4 {
		name = base + ".h"
		return root + "/include/" + p.name + "/" + name, name
	}
	name = base + ".c"
	return root + "/src/" + modules[(v/6)%len(modules)] + "/" + name, name
}

// writeFiles writes the file contents and files, garbage included: garbage
// files have contents of their own, except the first, which shares a live
// file's; some contents belong to no file at all.
func (gn *gen) writeFiles() error {
	if len(gn.files) == 0 {
		return nil
	}
	bl := blobs()
	var shared int64
	if len(gn.garbageAt) >= 2 {
		f := &gn.files[gn.garbageAt[0]-1]
		if p := gn.projects[f.proj]; len(p.used) > 0 {
			f.content = p.used[0]
			shared = 1
		}
	}
	contents := gn.l.batch(tFileContents)
	files := gn.l.batch(tFiles)
	addContent := func(n int64) {
		var blame any
		if n%3 == 0 {
			blame = bl.blame[int(n/3)%len(bl.blame)]
		}
		contents.add(gn.contentHash(n), bl.sources[int(n)%len(bl.sources)], blame)
	}
	for _, f := range gn.files {
		if f.content == f.id {
			addContent(f.content)
		}
		path, name := gn.filePath(f)
		files.add(f.id, path, name, gn.contentHash(f.content))
	}
	orphans := max(1, int(math.Round(float64(gn.g.Files)/4)))
	last := gn.files[len(gn.files)-1].id
	for i := range orphans {
		addContent(last + 1 + int64(i))
	}
	gn.g.FileContents = gn.g.Files - shared + int64(orphans)
	if err := contents.flush(); err != nil {
		return err
	}
	return files.flush()
}

// eachReport calls fn for every report in id order.
func (gn *gen) eachReport(fn func(r *runPlan, id int64, in *inst, b *bug)) error {
	for _, r := range gn.runs {
		for i := range r.inst {
			id := r.reportID + int64(i)
			if id&1023 == 0 {
				if err := gn.l.failed(); err != nil {
					return err
				}
			}
			in := &r.inst[i]
			fn(r, id, in, &gn.bugs[in.bug])
		}
	}
	return nil
}

func (gn *gen) writeReports() error {
	bl := blobs()
	reports := gn.l.batch(tReports)
	checkerIDs := make([]any, len(gn.checkerIDs)) // boxed once
	for i, id := range gn.checkerIDs {
		checkerIDs[i] = id
	}
	statuses := make([]any, len(detectionStatuses))
	for i, s := range detectionStatuses {
		statuses[i] = s
	}
	err := gn.eachReport(func(r *runPlan, id int64, in *inst, b *bug) {
		var fixed, author, date, msg any
		if in.fixed != noStamp {
			fixed = gn.be.stamp(in.fixed)
		}
		if b.review != reviewNone {
			author = users[b.reviewer]
			date = gn.be.stamp(b.reviewDate)
			msg = bl.review[b.reviewMsg]
		}
		reports.add(id, in.fileID, r.id, b.hash, int64(b.line), int64(b.col),
			checkerMessages[int(b.checker)%len(checkerMessages)], statuses[in.status],
			gn.be.stamp(in.detected), fixed, int64(pathLen(b.shape)),
			reviewStatuses[b.review], author, date, gn.be.flag(b.inSource), msg,
			checkerIDs[b.checker])
	})
	if err != nil {
		return err
	}
	return reports.flush()
}

// writePaths writes the bug path events and bug report points. The last of
// each is the report's own location, so the report's file is always on its
// path; earlier steps may visit other files of the project.
func (gn *gen) writePaths() error {
	events := gn.l.batch(tBugPathEvents)
	err := gn.eachReport(func(r *runPlan, id int64, in *inst, b *bug) {
		st := stream(b.shape, saltEvents)
		n := pathLen(b.shape)
		for k := range n {
			if k == n-1 {
				events.add(int64(b.line), int64(b.col), int64(b.line), int64(b.col+12), int64(k),
					checkerMessages[int(b.checker)%len(checkerMessages)], in.fileID, id)
				break
			}
			file, line, col := gn.step(r, in, b, &st, n-1-k)
			events.add(line, col, line, col+8, int64(k), eventMessages[st.intn(len(eventMessages))], file, id)
		}
	})
	if err != nil {
		return err
	}
	if err := events.flush(); err != nil {
		return err
	}

	points := gn.l.batch(tBugReportPoints)
	err = gn.eachReport(func(r *runPlan, id int64, in *inst, b *bug) {
		st := stream(b.shape, saltPoints)
		n := pointsLen(b.shape)
		for k := range n {
			if k == n-1 {
				points.add(int64(b.line), int64(b.col), int64(b.line), int64(b.col+12), int64(k), in.fileID, id)
				break
			}
			file, line, col := gn.step(r, in, b, &st, n-1-k)
			points.add(line, col, line, col+8, int64(k), file, id)
		}
	})
	if err != nil {
		return err
	}
	return points.flush()
}

// step places a path step that comes back steps before the report's
// location.
func (gn *gen) step(r *runPlan, in *inst, b *bug, st *splitmix, back int) (file, line, col int64) {
	file = in.fileID
	if used := r.proj.used; len(used) > 1 && st.intn(100) < otherFilePct {
		file = used[st.intn(len(used))]
	}
	line = max(1, int64(b.line)-int64(back*(1+st.intn(6))))
	col = int64(1 + st.intn(40))
	return file, line, col
}

// writeReportExtras writes extended report data, report annotations and the
// reports' links to analysis info.
func (gn *gen) writeReportExtras() error {
	ext := gn.l.batch(tExtendedReportData)
	ann := gn.l.batch(tReportAnnotations)
	links := gn.l.batch(tReportAnalysisInfo)
	var extID int64
	err := gn.eachReport(func(r *runPlan, id int64, in *inst, b *bug) {
		st := stream(b.shape, saltExtras)
		links.add(id, r.lastAI)
		if r.firstAI != r.lastAI && st.intn(100) < 5 {
			links.add(id, r.firstAI)
		}
		if r.extraAI != 0 && (id == r.reportID || st.intn(100) == 0) {
			links.add(id, r.extraAI)
		}
		for e := range int64(b.ext) {
			extID++
			line := int64(b.line) + e
			ext.add(extID, id, in.fileID, extTypes[st.intn(len(extTypes))], line, int64(1), line, int64(9),
				noteMessages[st.intn(len(noteMessages))])
		}
		if b.annotated {
			ann.add(id, "testcase", "TC-"+strconv.Itoa(100+st.intn(900)))
			ann.add(id, "timestamp", in.detected.text())
		}
	})
	if err != nil {
		return err
	}
	// A note in a file that is garbage nevertheless: cleanup removes the
	// file, and the note with it.
	if len(gn.garbageAt) > 0 && len(gn.bugs) > 0 {
		extID++
		ext.add(extID, int64(1), gn.garbageAt[len(gn.garbageAt)-1], "note", int64(1), int64(1), int64(1), int64(9),
			"see declaration in the removed header")
	}
	for _, b := range []*batch{ext, ann, links} {
		if err := b.flush(); err != nil {
			return err
		}
	}
	return nil
}

// writeComments writes comments (user and system ones), review status
// rules, and the garbage comments on bug hashes that no report has.
func (gn *gen) writeComments() error {
	bl := blobs()
	comments := gn.l.batch(tComments)
	rules := gn.l.batch(tReviewStatuses)
	var id int64
	for i := range gn.bugs {
		b := &gn.bugs[i]
		if b.review != reviewNone && !b.inSource {
			rules.add(b.hash, reviewStatuses[b.review], users[b.reviewer], bl.rule[b.reviewMsg], gn.be.stamp(b.reviewDate))
		}
		if b.comments == 0 {
			continue
		}
		st := stream(b.shape, saltComments)
		t := epoch + 20*day + stamp(st.intn(30*24))*hour
		for c := range int(b.comments) {
			id++
			comments.add(id, b.hash, users[st.intn(len(users))], blob("comments.message", commentMessages[st.intn(len(commentMessages))]),
				gn.be.stamp(t+stamp(c)*hour), int64(0))
		}
		if b.review != reviewNone {
			id++
			comments.add(id, b.hash, users[b.reviewer], blob("comments.message", "rev_st_changed "+reviewStatuses[b.review]),
				gn.be.stamp(t+stamp(b.comments)*hour), int64(1))
		}
	}
	n := gn.planted(int(id))
	for i := range n {
		id++
		comments.add(id, gn.randomHash(), users[i%len(users)], blob("comments.message", commentMessages[i%len(commentMessages)]),
			gn.be.stamp(epoch+stamp(i)*day), int64(0))
	}
	gn.g.Comments = int64(n)
	// Rules for findings that are gone: CodeChecker keeps them, they are not
	// garbage.
	if len(gn.bugs) > 0 {
		for i := range 2 {
			rules.add(gn.randomHash(), reviewStatuses[reviewFalsePos], users[i], bl.rule[i], gn.be.stamp(epoch+stamp(i)*day))
		}
	}
	if err := comments.flush(); err != nil {
		return err
	}
	return rules.flush()
}

// writeMisc writes source components, cleanup plans, filter presets and run
// locks.
func (gn *gen) writeMisc() error {
	be := gn.be
	comps := gn.l.batch(tSourceComponents)
	compFiles := gn.l.batch(tSourceComponentFiles)
	if len(gn.garbageAt) > 0 {
		comps.add("core", blob("source_components.value", "+"+workspace+"*/src/core/*\n-*/test/*"), "core modules", "alice")
		comps.add("headers", blob("source_components.value", "+*/include/*"), nil, "bob")
		var core, headers int
		for _, f := range gn.files {
			if f.garbage {
				continue
			}
			switch path, _ := gn.filePath(f); {
			case strings.Contains(path, "/src/core/") && core < 40:
				compFiles.add("core", f.id)
				core++
			case strings.Contains(path, "/include/") && headers < 40:
				compFiles.add("headers", f.id)
				headers++
			}
		}
		// Garbage files still listed: cleanup removes the entries with them.
		compFiles.add("core", gn.garbageAt[0])
		if len(gn.garbageAt) > 1 {
			compFiles.add("headers", gn.garbageAt[1])
		}
	}

	plans := gn.l.batch(tCleanupPlans)
	planHashes := gn.l.batch(tCleanupPlanReportHashes)
	plans.add(int64(1), "Q4 cleanup", be.stamp(epoch+120*day), "burn down the oldest findings", nil)
	plans.add(int64(2), "release 2.0", be.stamp(epoch+30*day), nil, be.stamp(epoch+35*day))
	if len(gn.bugs) > 0 {
		step := max(1, len(gn.bugs)/20)
		for i := 0; i < len(gn.bugs); i += step {
			planHashes.add(int64(1), gn.bugs[i].hash)
		}
		planHashes.add(int64(2), gn.randomHash()) // a finding that is gone
	}

	presets := gn.l.batch(tFilterPresets)
	presets.add(int64(1), "high-open", `{"severity": [40, 50], "detectionStatus": ["new", "reopened", "unresolved"]}`)
	presets.add(int64(2), "mine", `{"reviewStatus": ["confirmed"], "reportAnnotations": {"testcase": "TC-1*"}}`)

	// Run locks: stores in progress (dated far ahead, so they never expire
	// and the content stays the same whenever it is read) and stores that
	// died holding their lock in 2025.
	locks := gn.l.batch(tRunLocks)
	for _, r := range gn.runs[:min(2, len(gn.runs))] {
		locks.add(r.name, be.stamp(date(2099, 12, 31, 23, 0)), "ci-bot")
	}
	expired := gn.planted(2 * len(gn.runs))
	for i := range expired {
		var user any
		if i%2 == 0 {
			user = "ci-bot"
		}
		at := date(2025, 3, 1, 8, 0) - stamp(i)*(day+17*minute)
		locks.add(fmt.Sprintf("%s/crashed-store-%d", gn.projects[i%len(gn.projects)].name, i), be.stamp(at), user)
	}
	gn.g.ExpiredRunLocks = int64(expired)

	for _, b := range []*batch{comps, compFiles, plans, planHashes, presets, locks} {
		if err := b.flush(); err != nil {
			return err
		}
	}
	return nil
}
