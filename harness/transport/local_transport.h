#pragma once
// LocalTransport: Transport for `transport: local` (the controller runs on the node itself, or
// tests): commands run through /bin/sh -c as child processes (common/child_process.h), files are copied.
//
// Thread safety: each call is independent; one instance may be shared.

#include "harness/transport/transport.h"

namespace fwcanary::transport {

class LocalTransport : public Transport {
 public:
  Result<ExecResult> Exec(const std::string& command, double timeout_s,
                          const std::string& stdin_text = "",
                          const std::function<bool(const std::string&)>& on_line = {}, double silence_s = 0) override;
  Status Put(const std::string& local_path, const std::string& remote_path, int mode,
             double timeout_s) override;
  std::string Describe() const override { return "local"; }
};

}  // namespace fwcanary::transport
