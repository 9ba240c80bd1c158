// Package catalog owns the merged catalog: what each server listed, the
// names the agent sees, the collisions between servers, and the tools/list
// answer with its pages and cursors.
//
// It is merged in three explicit stages, each with its own type:
//
//	query    Snapshot  what one server listed (after its own tool filter)
//	resolve  (Merge)   exposed names assigned, collisions found and reported
//	merge    Catalog   one routing table and one list per feature
//
// Routing reads a merged Catalog; it never merges. A Catalog is immutable
// once made, so readers load it from an atomic pointer without locks, and
// the next merge reuses the previous one's tool encodings.
//
// The tools/list answer is a [Listing] of pre-encoded tools (encoding 420
// tools through the SDK for every list costs tens of milliseconds); a
// per-session view of it, for what an identity may see, selects entries
// without encoding anything again ([Listing.Filter]).
package catalog
