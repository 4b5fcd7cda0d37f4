// The mount: startup checks (mountpoint, credentials, bucket) in the
// foreground with one-line errors, then the FUSE mount, then daemonizing,
// then serving until unmounted or signalled.
#pragma once

#include "daemon/config.h"

namespace repofs::daemon {

// Returns the process exit status.
int RunMount(Config config);

}  // namespace repofs::daemon
