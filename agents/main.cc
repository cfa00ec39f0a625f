// fwcanary-agent: a thin main over the agent library (agents/agent_main.h).
#include "agents/agent_main.h"

int main(int argc, char** argv) { return fwcanary::AgentMain(argc, argv); }
