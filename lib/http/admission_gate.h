// Asked by a session before a routed request reaches its handler: serve
// it, or answer 503 with Retry-After at once (a C++ app's worker whose
// event loop has fallen behind; see overload/lag_shedder.h). Called on the
// session's thread.
#ifndef CORRAL_HTTP_ADMISSION_GATE_H_
#define CORRAL_HTTP_ADMISSION_GATE_H_

#include "http/request.h"

namespace corral::http {

class AdmissionGate {
 public:
  // Whether Admit may say no: a plain field, read on every request, so a
  // loop that keeps up pays a load and a branch, not a call.
  bool shedding() const { return shedding_; }
  // Only while shedding(); false: the request is shed.
  virtual bool Admit(const Request& request) = 0;

 protected:
  ~AdmissionGate() = default;
  bool shedding_ = false;
};

}  // namespace corral::http

#endif  // CORRAL_HTTP_ADMISSION_GATE_H_
