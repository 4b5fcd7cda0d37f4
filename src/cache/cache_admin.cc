#include "cache/cache_admin.h"
