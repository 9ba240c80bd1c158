package cli

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// VersionOptions are the inputs of `mcpgw version`.
type VersionOptions struct {
	IO     *IOStreams
	Output string
}

// VersionInfo is what `mcpgw version -o json` prints.
type VersionInfo struct {
	Version string `json:"version"`
	Commit  string `json:"commit,omitempty"`
	Date    string `json:"date,omitempty"`
	Go      string `json:"go"`
	OS      string `json:"os"`
	Arch    string `json:"arch"`
}

// NewCmdVersion builds `mcpgw version`.
func NewCmdVersion(f *Factory, runF func(context.Context, *VersionOptions) error) *cobra.Command {
	opts := &VersionOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print mcpgw's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runVersion(opts)
		},
	}
	addOutputFlag(cmd, &opts.Output)
	return cmd
}

func runVersion(opts *VersionOptions) error {
	format, err := resolveFormat(opts.IO, opts.Output)
	if err != nil {
		return err
	}
	v := versionInfo(debug.ReadBuildInfo())
	if format == FormatJSON {
		return printJSON(opts.IO.Out, v)
	}
	fmt.Fprintf(opts.IO.Out, "mcpgw %s (%s/%s, %s)\n", v.Version, v.OS, v.Arch, v.Go)
	if v.Commit != "" {
		fmt.Fprintf(opts.IO.Out, "commit %s", v.Commit)
		if v.Date != "" {
			fmt.Fprintf(opts.IO.Out, ", %s", v.Date)
		}
		fmt.Fprintln(opts.IO.Out)
	}
	return nil
}

// versionInfo is the version ldflags set (a release build), or else what
// the Go toolchain stamped into the binary: the module version `go install
// ...@v1.2.3` built, and the VCS revision and time of a build in a
// checkout (-dirty when it had uncommitted changes).
func versionInfo(bi *debug.BuildInfo, ok bool) VersionInfo {
	v := VersionInfo{Version: Version, Commit: Commit, Date: Date, Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	if Version != "dev" || !ok || bi == nil {
		return v
	}
	if mv := bi.Main.Version; mv != "" && mv != "(devel)" {
		v.Version = mv
	}
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			if v.Commit == "" {
				v.Commit = s.Value
			}
		case "vcs.time":
			if v.Date == "" {
				v.Date = s.Value
			}
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if dirty && v.Commit != "" {
		v.Commit += "-dirty"
	}
	return v
}
