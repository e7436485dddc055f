// Command render renders a Helm chart's templates the way `helm template` does, for the subset of
// Helm that Bulwark's own chart (deploy/helm/bulwark) uses. It is NOT Helm: there is no helm
// binary on the build machines and no way to download one, so this uses the same engine pieces
// Helm uses — Go's text/template with Masterminds/sprig (Debian's
// golang-github-masterminds-sprig-dev) and Helm's own extra functions re-implemented from Helm's
// engine (include, tpl, required, toYaml, fromYaml, toJson, fromJson, lookup) — with Helm's
// value-merging rules (values.yaml, then each -f file, then --set, null deletes a key).
//
// Not implemented: subcharts and dependencies, .Files, hooks, schema validation
// (values.schema.json), --set for list indexes (a[0]=x), toToml, capabilities from a live cluster,
// and Helm's kind-ordered output (documents come in template file order).
//
//	render [-n NAME] [--namespace NS] [-f values.yaml]... [--set k.k=v[,k=v]]...
//	       [--set-string k=v]... [--kube-version v1.29.0] [--api-versions group/version]...
//	       [--notes] CHART_DIR
//
// Build (offline, GOPATH mode over Debian's /usr/share/gocode): deploy/helm/render/build.sh.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/template"

	sprig "github.com/Masterminds/sprig" // Debian installs sprig v3 without the /v3 directory
	"gopkg.in/yaml.v2"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

// Values are plain JSON-like trees: map[string]interface{}, []interface{}, scalars.
type Values = map[string]interface{}

// normalize turns yaml.v2's map[interface{}]interface{} into map[string]interface{}, recursively.
func normalize(v interface{}) interface{} {
	switch t := v.(type) {
	case map[interface{}]interface{}:
		m := make(map[string]interface{}, len(t))
		for k, e := range t {
			m[fmt.Sprint(k)] = normalize(e)
		}
		return m
	case map[string]interface{}:
		for k, e := range t {
			t[k] = normalize(e)
		}
		return t
	case []interface{}:
		for i, e := range t {
			t[i] = normalize(e)
		}
		return t
	}
	return v
}

func readYAMLMap(file string) (Values, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var v interface{}
	if err := yaml.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if v == nil {
		return Values{}, nil
	}
	m, ok := normalize(v).(map[string]interface{})
	if !ok {
		return nil, fmt.Errorf("%s: not a mapping", file)
	}
	return m, nil
}

// mergeInto merges src over dst as Helm does for values: maps merge key by key, anything else
// replaces, and a null in src deletes the key.
func mergeInto(dst, src Values) {
	for k, sv := range src {
		if sv == nil {
			delete(dst, k)
			continue
		}
		sm, sok := sv.(map[string]interface{})
		dm, dok := dst[k].(map[string]interface{})
		if sok && dok {
			mergeInto(dm, sm)
			continue
		}
		dst[k] = sv
	}
}

// splitSet splits "a=1,b=2" on commas not escaped with a backslash.
func splitSet(s string) []string {
	var out []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			cur.WriteByte(s[i+1])
			i++
			continue
		}
		if s[i] == ',' {
			out = append(out, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteByte(s[i])
	}
	return append(out, cur.String())
}

var intRe = regexp.MustCompile(`^[-+]?(0|[1-9][0-9]*)$`)

// typed converts a --set value as Helm's strvals does: true/false, null, integers; else a string.
func typed(s string) interface{} {
	switch s {
	case "true":
		return true
	case "false":
		return false
	case "null":
		return nil
	}
	if intRe.MatchString(s) {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
	}
	return s
}

func applySet(vals Values, expr string, asString bool) error {
	for _, kv := range splitSet(expr) {
		eq := strings.IndexByte(kv, '=')
		if eq <= 0 {
			return fmt.Errorf("--set %q: expected key=value", kv)
		}
		key, raw := kv[:eq], kv[eq+1:]
		if strings.ContainsAny(key, "[]") {
			return fmt.Errorf("--set %q: list indexes are not supported by this renderer", kv)
		}
		var v interface{} = raw
		if !asString {
			v = typed(raw)
		}
		parts := strings.Split(key, ".")
		cur := vals
		for _, p := range parts[:len(parts)-1] {
			next, ok := cur[p].(map[string]interface{})
			if !ok {
				next = Values{}
				cur[p] = next
			}
			cur = next
		}
		last := parts[len(parts)-1]
		if v == nil {
			delete(cur, last)
		} else {
			cur[last] = v
		}
	}
	return nil
}

// toYAML marshals as Helm's toYaml (sigs.k8s.io/yaml: sorted keys, 2-space indents), without the
// trailing newline.
func toYAML(v interface{}) string {
	b, err := yaml.Marshal(v)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(b), "\n")
}

func fromYAML(s string) map[string]interface{} {
	var v interface{}
	if err := yaml.Unmarshal([]byte(s), &v); err != nil {
		return map[string]interface{}{"Error": err.Error()}
	}
	m, _ := normalize(v).(map[string]interface{})
	if m == nil {
		m = map[string]interface{}{}
	}
	return m
}

func toJSON(v interface{}) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

func fromJSON(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

// Capabilities as Helm's chartutil.Capabilities, reduced to what charts read.
type KubeVersion struct{ Version, Major, Minor, GitVersion string }

func (k KubeVersion) String() string { return k.Version }

type VersionSet []string

func (v VersionSet) Has(s string) bool {
	for _, e := range v {
		if e == s {
			return true
		}
	}
	return false
}

type Capabilities struct {
	KubeVersion KubeVersion
	APIVersions VersionSet
	HelmVersion map[string]string
}

var defaultAPIVersions = []string{
	"v1", "apps/v1", "batch/v1", "policy/v1", "rbac.authorization.k8s.io/v1",
	"admissionregistration.k8s.io/v1", "networking.k8s.io/v1", "autoscaling/v2",
	"coordination.k8s.io/v1", "storage.k8s.io/v1", "apiextensions.k8s.io/v1",
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "render: "+err.Error())
		os.Exit(1)
	}
}

func run() error {
	var files, sets, setStrings, apis multi
	name := flag.String("n", "bulwark", "release name")
	flag.StringVar(name, "name", "bulwark", "release name")
	ns := flag.String("namespace", "default", "release namespace")
	kube := flag.String("kube-version", "v1.29.0", "Kubernetes version for .Capabilities")
	notes := flag.Bool("notes", false, "also render templates/NOTES.txt")
	flag.Var(&files, "f", "values file (repeatable)")
	flag.Var(&files, "values", "values file (repeatable)")
	flag.Var(&sets, "set", "key=value[,key=value] (repeatable)")
	flag.Var(&setStrings, "set-string", "key=value, always a string (repeatable)")
	flag.Var(&apis, "api-versions", "extra API version for .Capabilities.APIVersions (repeatable)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: render [-n NAME] [--namespace NS] [-f FILE]... [--set K=V]... [--set-string K=V]... [--notes] CHART_DIR")
		fmt.Fprintln(os.Stderr, "(a renderer for Bulwark's chart built on text/template + sprig; not Helm)")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	chartDir := flag.Arg(0)

	chartMeta, err := readYAMLMap(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		return err
	}
	chart := map[string]interface{}{}
	for k, v := range chartMeta {
		// .Chart fields are Go struct fields in Helm: name → Name, appVersion → AppVersion
		chart[strings.ToUpper(k[:1])+k[1:]] = v
	}
	chartName, _ := chart["Name"].(string)
	if chartName == "" {
		return errors.New("Chart.yaml has no name")
	}
	if s, ok := chart["Version"]; ok {
		chart["Version"] = fmt.Sprint(s)
	}
	if s, ok := chart["AppVersion"]; ok {
		chart["AppVersion"] = fmt.Sprint(s)
	}

	vals, err := readYAMLMap(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		return err
	}
	for _, f := range files {
		o, err := readYAMLMap(f)
		if err != nil {
			return err
		}
		mergeInto(vals, o)
	}
	for _, s := range sets {
		if err := applySet(vals, s, false); err != nil {
			return err
		}
	}
	for _, s := range setStrings {
		if err := applySet(vals, s, true); err != nil {
			return err
		}
	}

	kv := strings.TrimPrefix(*kube, "v")
	kp := strings.SplitN(kv, ".", 3)
	if len(kp) < 2 {
		return fmt.Errorf("--kube-version %q: expected vMAJOR.MINOR[.PATCH]", *kube)
	}
	caps := Capabilities{
		KubeVersion: KubeVersion{Version: "v" + kv, Major: kp[0], Minor: kp[1], GitVersion: "v" + kv},
		APIVersions: append(VersionSet(defaultAPIVersions), apis...),
		HelmVersion: map[string]string{"Version": "v3-compatible (Bulwark's render, not Helm)"},
	}
	release := map[string]interface{}{
		"Name": *name, "Namespace": *ns, "Service": "Helm", "IsInstall": true, "IsUpgrade": false,
		"Revision": 1,
	}

	// every file under templates/, parsed into one set named chart/templates/... as Helm does
	tdir := filepath.Join(chartDir, "templates")
	var names []string
	err = filepath.WalkDir(tdir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			names = append(names, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(names)

	root := template.New("gotpl")
	funcs := sprig.TxtFuncMap()
	delete(funcs, "env") // Helm removes these two: a chart's output must not depend on the host
	delete(funcs, "expandenv")
	includedNames := map[string]int{}
	funcs["toYaml"] = toYAML
	funcs["fromYaml"] = fromYAML
	funcs["toJson"] = toJSON
	funcs["fromJson"] = fromJSON
	funcs["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil {
			return v, errors.New(msg)
		}
		if s, ok := v.(string); ok && s == "" {
			return v, errors.New(msg)
		}
		return v, nil
	}
	funcs["lookup"] = func(string, string, string, string) (map[string]interface{}, error) {
		return map[string]interface{}{}, nil // helm template: no cluster, lookup returns empty
	}
	funcs["include"] = func(name string, data interface{}) (string, error) {
		if includedNames[name] > 1000 {
			return "", fmt.Errorf("rendering template has a nested reference name: %s", name)
		}
		includedNames[name]++
		defer func() { includedNames[name]-- }()
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, name, data); err != nil {
			return "", err
		}
		return buf.String(), nil
	}
	funcs["tpl"] = func(text string, data interface{}) (string, error) {
		t, err := root.Clone()
		if err != nil {
			return "", err
		}
		t, err = t.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		if err := t.Execute(&buf, data); err != nil {
			return "", err
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
	root.Funcs(funcs).Option("missingkey=zero")

	rel := map[string]string{}
	for _, p := range names {
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		r, _ := filepath.Rel(chartDir, p)
		tname := path.Join(chartName, filepath.ToSlash(r))
		rel[p] = tname
		if _, err := root.New(tname).Parse(string(b)); err != nil {
			return err
		}
	}

	var out strings.Builder
	for _, p := range names {
		tname := rel[p]
		base := path.Base(tname)
		if strings.HasPrefix(base, "_") {
			continue // partials
		}
		isNotes := base == "NOTES.txt"
		if isNotes && !*notes {
			continue
		}
		if !isNotes && !strings.HasSuffix(base, ".yaml") && !strings.HasSuffix(base, ".yml") {
			continue
		}
		data := map[string]interface{}{
			"Values":       vals,
			"Release":      release,
			"Chart":        chart,
			"Capabilities": caps,
			"Template":     map[string]interface{}{"Name": tname, "BasePath": path.Join(chartName, "templates")},
		}
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, tname, data); err != nil {
			return err
		}
		s := strings.ReplaceAll(buf.String(), "<no value>", "")
		if strings.TrimSpace(s) == "" {
			continue
		}
		if isNotes {
			fmt.Fprintf(os.Stderr, "NOTES:\n%s\n", strings.TrimSpace(s))
			continue
		}
		// each document must be YAML (helm install/template fail the same way on a broken one)
		for i, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(s, -1) {
			var v interface{}
			if err := yaml.Unmarshal([]byte(doc), &v); err != nil {
				return fmt.Errorf("YAML parse error in %s (document %d): %w\n%s", tname, i+1, err, doc)
			}
		}
		fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", tname, strings.Trim(s, "\n"))
	}
	_, err = os.Stdout.WriteString(out.String())
	return err
}
