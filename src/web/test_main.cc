// main() for the web tests that start the Markdown renderer child: the test binary plays
// pipy's part, so /proc/self/exe render-markdown works as in the server.
#include <gtest/gtest.h>

#include <string_view>

#include "web/markdown_child.h"

int main(int argc, char** argv) {
  if (argc >= 2 && std::string_view(argv[1]) == pipy::web::kRenderMarkdownCommand) {
    return pipy::web::RenderMarkdownChildMain(argc, argv);
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
