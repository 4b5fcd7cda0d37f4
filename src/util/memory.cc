#include "util/memory.h"

#include <cstddef>  // defines __GLIBC__ (via <features.h>) on glibc

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace repofs {

void ReturnFreedMemory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace repofs
