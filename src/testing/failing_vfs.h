// An SQLite VFS that behaves like the default one until told to fail: then every write and sync
// returns an I/O error, as a full or failing disk would. Lets tests prove the store fails closed.
#pragma once

#include <cstdint>

namespace bluegate::testing {

// Registers the VFS under the name "bluegate-failing" (idempotent) and returns that name.
const char* RegisterFailingVfs();
// From now on, writes and syncs fail (true) or succeed again (false). Thread-safe.
void SetVfsFailing(bool failing);
// From now on, writes fail as on a full disk (SQLITE_FULL), or succeed again. Thread-safe.
void SetVfsFull(bool full);
// How many syncs (fsync of a database or WAL file) the VFS has passed on so far: with
// synchronous=FULL each commit syncs, so this counts commits. Thread-safe.
uint64_t VfsSyncs();

}  // namespace bluegate::testing
