// fwcanary: a thin main over the harness library (harness/cli/commands.h).
#include "harness/cli/commands.h"

int main(int argc, char** argv) { return fwcanary::cli::Main(argc, argv); }
