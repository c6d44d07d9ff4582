// Must not compile: http/ serves apps but knows nothing of them.
#include "app/app.h"
