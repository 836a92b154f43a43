// The only source file outside a library, so tests link exactly the code that ships.
#include "app/cli.h"

int main(int argc, char** argv) { return bluegate::app::RunCli(argc, argv); }
