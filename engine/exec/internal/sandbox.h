// The bwrap command line of `tink exec --sandbox` (internal to engine/exec; docs/exec.md
// "Sandbox"). CheckSandbox (exec.h) probes it once per process.
#pragma once

#include <string>
#include <vector>

namespace tink::exec::internal {

// bwrap --unshare-all --die-with-parent --new-session --ro-bind / / --dev /dev --proc /proc
//       --tmpfs /tmp --bind WORKDIR WORKDIR --chdir WORKDIR -- COMMAND...
std::vector<std::string> SandboxArgv(const std::string& bwrap, const std::string& workdir,
                                     const std::vector<std::string>& command);

}  // namespace tink::exec::internal
