// corral: any program as the container's init (`corral -- CMD`), or one copy
// of it per CPU on one listening socket (`corral --listen=ADDR -- CMD`).
#include "corral/app.h"

int main(int argc, char** argv) { return corral::CommandMain(argc, argv); }
