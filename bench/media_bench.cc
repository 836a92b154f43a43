// The cost of compressing one attachment for SMS (media::ShrinkToFit, 5 MB), on media made here:
// a 6 MB noisy 3000×2000 JPEG, an 8 MB noisy 2000×1500 PNG and a 9 MB six-second 720p video with
// sound. The baseline, in the same run: the ffmpeg command doing a comparable re-encode on one
// thread (process start included).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "media/shrink.h"

namespace {

namespace fs = std::filesystem;
constexpr uint64_t kSmsLimit = 5ull * 1024 * 1024;

const fs::path& Dir() {
  static const fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / "bluegate-media-bench";
    fs::create_directories(d);
    auto make = [&d](const std::string& name, const std::string& args) {
      if (fs::exists(d / name)) return;
      const std::string cmd = "ffmpeg -v error -y " + args + " " + (d / name).string();
      if (std::system(cmd.c_str()) != 0) std::abort();
    };
    make("photo.jpg", "-f lavfi -i color=gray:s=3000x2000,noise=alls=100:allf=t -frames:v 1 -q:v 1");
    make("noise.png", "-f lavfi -i color=gray:s=2000x1500,noise=alls=100:allf=t -frames:v 1");
    make("clip.mp4",
         "-f lavfi -i testsrc2=size=1280x720:rate=25,noise=alls=20:allf=t -f lavfi -i "
         "sine=frequency=440 -t 6 -c:v libx264 -preset ultrafast -crf 30 -c:a aac -shortest");
    return d;
  }();
  return dir;
}

void Shrink(benchmark::State& state, const char* name) {
  const std::string in = (Dir() / name).string();
  const std::string out = (Dir() / "out").string();
  uint64_t bytes = 0;
  for (auto _ : state) {
    auto r = bluegate::media::ShrinkToFit(in, out, kSmsLimit);
    if (!r.ok()) state.SkipWithError(r.error().message.c_str());
    bytes = r.ok() ? r->bytes : 0;
  }
  state.counters["in_MB"] = static_cast<double>(fs::file_size(in)) / (1024 * 1024);
  state.counters["out_MB"] = static_cast<double>(bytes) / (1024 * 1024);
}

void Command(benchmark::State& state, const char* args) {
  const std::string cmd = "ffmpeg -v error -y -threads 1 " + std::string(args);
  for (auto _ : state) {
    const std::string run = "cd " + Dir().string() + " && " + cmd;
    if (std::system(run.c_str()) != 0) state.SkipWithError("ffmpeg failed");
  }
}

void BM_ShrinkPhotoJpeg(benchmark::State& s) { Shrink(s, "photo.jpg"); }
void BM_ShrinkNoisePng(benchmark::State& s) { Shrink(s, "noise.png"); }
void BM_ShrinkVideoMp4(benchmark::State& s) { Shrink(s, "clip.mp4"); }
// Baselines: the same kind of re-encode by the ffmpeg command (the photo at the size ours chose
// for it, the video at the bitrate ours computes).
void BM_BaselineFfmpegPhoto(benchmark::State& s) {
  Command(s, "-i photo.jpg -vf scale=1632:-2 -q:v 4 base.jpg");
}
void BM_BaselineFfmpegVideo(benchmark::State& s) {
  Command(s, "-i clip.mp4 -c:v libx264 -preset veryfast -b:v 5200k -vf scale=1280:-2 -c:a copy base.mp4");
}

BENCHMARK(BM_ShrinkPhotoJpeg)->Unit(benchmark::kMillisecond)->Iterations(5);
BENCHMARK(BM_BaselineFfmpegPhoto)->Unit(benchmark::kMillisecond)->Iterations(5);
BENCHMARK(BM_ShrinkNoisePng)->Unit(benchmark::kMillisecond)->Iterations(5);
BENCHMARK(BM_ShrinkVideoMp4)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_BaselineFfmpegVideo)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
