// `APP healthcheck [URL]`: for images with no curl and for Docker HEALTHCHECK.
#ifndef CORRAL_CORRAL_HEALTHCHECK_H_
#define CORRAL_CORRAL_HEALTHCHECK_H_

#include <string>

namespace corral {

// Exit code 0 when URL answers 2xx within the timeout, 1 otherwise (the
// reason goes to stderr), 2 for a URL that cannot be parsed.
int RunHealthcheck(const std::string& url);

}  // namespace corral

#endif  // CORRAL_CORRAL_HEALTHCHECK_H_
