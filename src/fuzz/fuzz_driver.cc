// A stand-in for libFuzzer's main, so every fuzz target also builds with g++ and runs in
// ctest as a smoke test: each file named on the command line is run once, then
// `-runs=N` inputs (default 100000) made by a seeded PRNG by mutating those seeds and
// random bytes. Real campaigns build the same targets with clang's -fsanitize=fuzzer
// (cmake -DPIPY_FUZZ=ON, bench/fuzz.sh).
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

// Bytes that the targets' parsers treat specially, drawn more often than others.
constexpr char kInteresting[] = "=+/:;,. \t\r\n\"\\%*@-_0aAzZ9\x80\xff";

std::string Mutate(const std::string& seed, std::mt19937_64& rng) {
  std::string s = seed;
  int edits = 1 + static_cast<int>(rng() % 8);
  for (int i = 0; i < edits; ++i) {
    char c = rng() % 2 ? kInteresting[rng() % (sizeof kInteresting - 1)]
                       : static_cast<char>(rng());
    switch (rng() % 4) {
      case 0:
        s.insert(s.begin() + static_cast<long>(s.empty() ? 0 : rng() % (s.size() + 1)), c);
        break;
      case 1:
        if (!s.empty()) {
          s.erase(s.begin() + static_cast<long>(rng() % s.size()));
        }
        break;
      case 2:
        if (!s.empty()) {
          s[rng() % s.size()] = c;
        }
        break;
      default:
        if (!s.empty() && s.size() < 4096) {
          std::size_t at = rng() % s.size();
          s += s.substr(at, 1 + rng() % (s.size() - at));
        }
        break;
    }
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  long runs = 100000;
  std::vector<std::string> seeds = {""};
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "-runs=", 6) == 0) {
      runs = std::atol(argv[i] + 6);
      continue;
    }
    std::ifstream in(argv[i], std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "fuzz: cannot read %s\n", argv[i]);
      return 2;
    }
    seeds.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  for (const std::string& seed : seeds) {
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(seed.data()), seed.size());
  }
  std::mt19937_64 rng(0x5eed);
  std::string input;
  for (long i = 0; i < runs; ++i) {
    input = Mutate(i % 4 == 0 ? input : seeds[rng() % seeds.size()], rng);
    if (input.size() > 65536) {
      input.clear();
    }
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
  }
  std::printf("fuzz: %zu seeds and %ld generated inputs, no crash\n", seeds.size(), runs);
  return 0;
}
