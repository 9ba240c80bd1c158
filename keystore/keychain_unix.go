//go:build !darwin && !windows

package keystore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

const unavailableHint = "mcpgw stores secrets in a Secret Service (GNOME Keyring, KWallet, KeePassXC) on the D-Bus session bus: " +
	"log in to a desktop session and unlock the keyring, or on a headless machine run one yourself, e.g. " +
	"`eval $(dbus-launch --sh-syntax); echo -n PASSWORD | gnome-keyring-daemon --unlock --components=secrets`; " +
	"or opt in to environment variables: set `secrets: {fallback: env}` in the config and export MCPGW_SECRET_<NAME>"

// preflight finds the session bus the way godbus does, minus its last
// resort: without one, godbus runs dbus-launch, which leaves a stray bus
// daemon behind and may start a keyring daemon in the user's real home.
func preflight() error {
	if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" && a != "autolaunch:" {
		return nil
	}
	dir := os.Getenv("XDG_RUNTIME_DIR")
	if dir == "" {
		dir = fmt.Sprintf("/run/user/%d", os.Getuid())
	}
	for _, f := range []string{"bus", "dbus-session"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return nil
		}
	}
	return errors.New("no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is not set and " + filepath.Join(dir, "bus") + " does not exist")
}

// describe says in plain words what go-keyring's and godbus's errors mean,
// keeping the original text for searching.
func describe(err error) string {
	msg := err.Error()
	var what string
	switch {
	case strings.Contains(msg, "failed to unlock correct collection"):
		what = "the keyring is locked, and no unlock prompt could be shown"
	case strings.Contains(msg, "was not provided by any .service files"), strings.Contains(msg, "ServiceUnknown"):
		what = "no Secret Service (such as gnome-keyring-daemon) is running on the D-Bus session bus"
	case strings.Contains(msg, "connect: no such file or directory"), strings.Contains(msg, "connect: connection refused"):
		what = "the D-Bus session bus (" + os.Getenv("DBUS_SESSION_BUS_ADDRESS") + ") cannot be reached"
	default:
		return msg
	}
	return what + " (" + msg + ")"
}
