// Fault injection for tests and demos, off unless SHOP_FAULTS=1: routes that
// hang or crash a worker, leave an orphan or answer slowly, and a start-up
// check that fails while the file $SHOP_FAULTS_DIR/fail-start exists.
#ifndef SHOP_FAULTS_H_
#define SHOP_FAULTS_H_

#include "absl/status/status.h"
#include "corral/app.h"

namespace shop {

bool FaultsEnabled();
absl::Status AddFaultRoutes(corral::WorkerContext& ctx);

}  // namespace shop

#endif  // SHOP_FAULTS_H_
