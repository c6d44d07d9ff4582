// Writes a config directory exactly as the kubelet's atomic writer updates a
// mounted ConfigMap (pkg/volume/util/atomic_writer.go): a new timestamped
// directory, the ..data_tmp symlink renamed over ..data, links for new keys,
// removal of deleted keys' links, then of the old directory.
#ifndef CORRAL_E2E_ATOMIC_WRITER_H_
#define CORRAL_E2E_ATOMIC_WRITER_H_

#include <map>
#include <string>

namespace corral::e2e {

class AtomicWriter {
 public:
  explicit AtomicWriter(std::string dir);
  void Write(const std::map<std::string, std::string>& payload);

 private:
  std::string dir_;
  int counter_ = 0;
};

}  // namespace corral::e2e

#endif  // CORRAL_E2E_ATOMIC_WRITER_H_
