"""Lambda's numeric limits as the runtime enforces them, in one place so tests and the service agree.

Figures come from reference/lambda.md sections 9 and 11; the strata-only knobs (output cap, watchdog period, memory
backstop) say why they have the value they have.
"""
from __future__ import annotations

from strata.artifacts.limits import UNZIPPED_MAX, UNZIPPED_MESSAGE  # noqa: F401 - one home: what a package may hold

RESPONSE_MAX = 6_291_556              # sync response payload check (AWS's number, 6 MB + 100)
TAIL_BYTES = 4096                     # X-Amz-Log-Result: base64 of the last 4 KB of the invocation's log
INIT_TIMEOUT = 10.0                   # seconds Lambda allows for the init phase

# Output a single invocation may keep in memory: a handler printing without end keeps its tail only, so neither the
# parent's memory nor the log file grows without bound. 1 MiB is far beyond a useful log and cheap to hold.
OUTPUT_CAP = 1 << 20

# The parent samples a busy worker's resident set this often (seconds). A Python allocation loop touches at most a few
# hundred MB in that time, so the overshoot stays small while fast invokes (which reply first) never pay for it.
MEMORY_WATCH_PERIOD = 0.01

# RLIMIT_AS backstop (MB on top of MemorySize). Not the enforcement itself: address space is not memory, and Python
# processes map far more than they touch (thread stacks, malloc arenas, BLAS buffers), so an RLIMIT_AS equal to
# MemorySize would break ordinary handlers. It only stops a runaway from taking the host between two samples.
ADDRESS_SPACE_HEADROOM_MB = 4096

# A server running one invocation and nothing else polls its worker's reply pipe this long (seconds) before it returns
# to its event loop (and sleeps): on a VM a sleeping vCPU takes tens of microseconds to wake (a pipe round trip here:
# ~60 us across two sleeping vCPUs, ~30 us when one side polls), a tiny handler replies within ~100 us, and waiting
# is bounded so a slow handler costs at most this much CPU. The poll yields the CPU between looks, so a worker woken
# on the same vCPU is never starved by it. Only environments whose last invocation replied within it poll again.
REPLY_POLL = 150e-6

# Idle warm environments are stopped after this many seconds (Lambda keeps them minutes; local tools want less).
IDLE_TIMEOUT = 300.0

# Async (Event) invocations: Lambda retries a failed event twice, after about 1 and 2 minutes; locally the same count
# with the minutes read as seconds, so `drain()` does not wait for minutes.
EVENT_RETRY_DELAYS = (1.0, 2.0)
EVENT_THROTTLE_RETRY = 0.05           # seconds between attempts while a throttled event waits for a free slot
EVENT_MAX_AGE = 60.0                  # a throttled event is dropped (and logged) after this many seconds
