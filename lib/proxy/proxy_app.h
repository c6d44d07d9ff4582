// The App a proxy worker runs: settings from the worker's environment and
// options, every request forwarded to the Proxy, routes labelled with
// --routes.
#ifndef CORRAL_PROXY_PROXY_APP_H_
#define CORRAL_PROXY_PROXY_APP_H_

#include "app/app.h"

namespace corral::proxy {

App ProxyApp();

}  // namespace corral::proxy

#endif  // CORRAL_PROXY_PROXY_APP_H_
