// Must not compile: admin/ sits below master/ and reads the pool through
// pool::PoolView. The layering test builds this and expects the include to
// be refused.
#include "master/supervisor.h"
