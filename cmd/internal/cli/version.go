package cli

import (
	"context"
	"fmt"
	"runtime"

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
	v := VersionInfo{Version: Version, Commit: Commit, Date: Date, Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	if format == FormatJSON {
		return printJSON(opts.IO.Out, v)
	}
	fmt.Fprintf(opts.IO.Out, "mcpgw %s (%s/%s, %s)\n", v.Version, v.OS, v.Arch, v.Go)
	return nil
}
