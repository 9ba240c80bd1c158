package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// Output formats every data-printing command takes with -o/--output.
const (
	FormatTable = "table"
	FormatJSON  = "json"
)

// addOutputFlag registers -o/--output; the default is a table on a
// terminal and JSON otherwise, so scripts get JSON without asking.
func addOutputFlag(cmd *cobra.Command, dst *string) {
	cmd.Flags().StringVarP(dst, "output", "o", "", "output format: table or json (default: table on a terminal, json otherwise)")
	cmd.RegisterFlagCompletionFunc("output", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{FormatTable, FormatJSON}, cobra.ShellCompDirectiveNoFileComp
	})
}

// resolveFormat validates the flag value and applies the default.
func resolveFormat(s *IOStreams, format string) (string, error) {
	switch format {
	case "":
		if s.IsTerminal {
			return FormatTable, nil
		}
		return FormatJSON, nil
	case FormatTable, FormatJSON:
		return format, nil
	}
	return "", withCode(ExitUsage, fmt.Errorf("--output %q: want table or json", format))
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table writes aligned columns.
type table struct{ tw *tabwriter.Writer }

func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)}
	t.row(header...)
	return t
}

func (t *table) row(cols ...string) {
	for i, c := range cols {
		if i > 0 {
			fmt.Fprint(t.tw, "\t")
		}
		fmt.Fprint(t.tw, c)
	}
	fmt.Fprintln(t.tw)
}

func (t *table) flush() error { return t.tw.Flush() }
