// The MCP `exec` tool (docs/mcp.md "exec"): a command run through the recorded executor of
// `tink exec` (engine/exec/exec.h) as a task of a run — its output, exit code, resource use and
// the files it changed under its workdir become events, as `tink exec` records them. Listed only
// when the server was started with --allow-exec (tink mcp) or --mcp-allow-exec (tink serve).
//
// The command never inherits the server's stdin or stdout (over stdio they are the JSON-RPC
// channel): its input is /dev/null and its output is recorded and returned, not passed through.
// A command that exits non-zero is an answer (exit_code, failure), not a tool error; a command
// that cannot be started (not found, a bad workdir, --sandbox without bwrap) is a tool error.
//
// Thread safety: the returned function may run several commands at once if `sink` may be called
// from several threads (each RunRecorded calls it from one thread at a time).
#pragma once

#include <string>
#include <vector>

#include "engine/exec/exec.h"
#include "shell/mcp/mcp.h"

namespace tink::mcp {

inline constexpr double kExecDefaultTimeoutS = 300;
inline constexpr double kExecMaxTimeoutS = 3600;

// `exclude`: paths left out of the workdir's snapshot (the store, when it lies under it).
ExecFn NewExecTool(exec::EventSink sink, std::vector<std::string> exclude);

}  // namespace tink::mcp
