// ReturnFreedMemory: hands memory the allocator keeps after frees back to the
// kernel (glibc malloc_trim), so RSS follows what is live. For after a large
// transient structure is freed (the HEAD results of a listing of 100,000
// entries are ~20 MB), not for hot paths: it walks every arena.
#pragma once

namespace repofs {

void ReturnFreedMemory();

}  // namespace repofs
