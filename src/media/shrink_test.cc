// Compression on real media made by the test: noisy images from libvips, videos from the ffmpeg
// command (a test dependency, as the integration tests' is).
#include "media/shrink.h"

#include <gtest/gtest.h>
#include <vips/vips8>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "media/sniff.h"
#include "testing/temp_dir.h"

namespace bluegate::media {
namespace {

using bluegate::testing::TempDir;
using vips::VImage;

constexpr uint64_t kKiB = 1024;

uint64_t SizeOf(const std::string& path) { return std::filesystem::file_size(path); }

// Noise does not compress: a 1600×1200 image of it is several MB in any lossless format.
VImage Noise(int width, int height, int bands) {
  VImage mono = VImage::gaussnoise(width, height, VImage::option()->set("sigma", 60)->set("mean", 128));
  VImage img = mono;
  for (int b = 1; b < bands; ++b) {
    img = img.bandjoin(
        VImage::gaussnoise(width, height, VImage::option()->set("sigma", 60)->set("mean", 128)));
  }
  img = img.cast(VIPS_FORMAT_UCHAR);
  return bands >= 3 ? img.copy(VImage::option()->set("interpretation", VIPS_INTERPRETATION_sRGB))
                    : img;
}

// Runs a command; the test fails if it does.
void Run(const std::string& command) {
  ASSERT_EQ(std::system((command + " >/dev/null 2>&1").c_str()), 0) << command;
}

std::string Output(const std::string& command) {
  std::string out;
  if (FILE* p = ::popen(command.c_str(), "r")) {
    char buf[256];
    while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    ::pclose(p);
  }
  return out;
}

TEST(SniffTest, TellsFormatsByTheirFirstBytes) {
  EXPECT_EQ(SniffBytes("\xFF\xD8\xFF\xE0").format, "jpeg");
  EXPECT_EQ(SniffBytes("\x89PNG\r\n\x1A\n....").format, "png");
  EXPECT_EQ(SniffBytes("GIF89a...").format, "gif");
  EXPECT_EQ(SniffBytes(std::string_view("RIFF\0\0\0\0WEBPVP8 ", 16)).format, "webp");
  EXPECT_EQ(SniffBytes(std::string_view("\0\0\0\x18" "ftypheic\0\0\0\0", 16)).format, "heic");
  EXPECT_EQ(SniffBytes(std::string_view("\0\0\0\x18" "ftypisom\0\0\0\0", 16)).format, "mp4");
  EXPECT_EQ(SniffBytes(std::string_view("\0\0\0\x14" "ftypqt  \0\0\0\0", 16)).format, "mov");
  EXPECT_EQ(SniffBytes(std::string_view("\0\0\0\x08" "moov", 8)).kind, Kind::kVideo);
  EXPECT_EQ(SniffBytes("%PDF-1.7").kind, Kind::kOther);
  EXPECT_EQ(SniffBytes("").kind, Kind::kOther);
  EXPECT_EQ(SniffBytes("\xFF\xD8").kind, Kind::kOther) << "too short to be a JPEG";
}

TEST(ShrinkTest, ANoisyPngBecomesAJpegUnderTheLimit) {
  TempDir dir("shrink");
  const std::string in = dir.File("noise.png");
  Noise(1600, 1200, 3).pngsave(in.c_str());
  const uint64_t limit = 400 * kKiB;
  ASSERT_GT(SizeOf(in), 4 * limit);
  auto out = ShrinkToFit(in, dir.File("small"), limit);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->ext, "jpg");
  EXPECT_EQ(out->path, dir.File("small.jpg"));
  EXPECT_LE(out->bytes, limit);
  EXPECT_EQ(out->bytes, SizeOf(out->path));
  VImage back = VImage::new_from_file(out->path.c_str());
  EXPECT_EQ(back.bands(), 3);
  EXPECT_LT(back.width(), 1600) << "noise fits only smaller";
  EXPECT_NEAR(static_cast<double>(back.width()) / back.height(), 4.0 / 3.0, 0.02);
  EXPECT_NE(out->description.find("from png 1600x1200"), std::string::npos) << out->description;
  EXPECT_TRUE(std::filesystem::exists(in)) << "the original is left as it was";
}

TEST(ShrinkTest, TransparencyIsFlattenedOntoWhite) {
  TempDir dir("shrink");
  const std::string in = dir.File("clear.png");
  // A transparent picture: its colour is noise, its alpha zero, so white shows.
  Noise(800, 600, 3).bandjoin_const({0}).copy(
      VImage::option()->set("interpretation", VIPS_INTERPRETATION_sRGB)).pngsave(in.c_str());
  auto out = ShrinkToFit(in, dir.File("small"), 100 * kKiB);
  ASSERT_TRUE(out.ok()) << out.error().message;
  VImage back = VImage::new_from_file(out->path.c_str());
  EXPECT_EQ(back.bands(), 3);
  EXPECT_GT(back.avg(), 240) << "transparent pixels are white";
}

TEST(ShrinkTest, JpegWebpAndHeicAreReencoded) {
  TempDir dir("shrink");
  const VImage noise = Noise(600, 450, 3);
  noise.jpegsave(dir.File("a.jpg").c_str(), VImage::option()->set("Q", 100));
  noise.webpsave(dir.File("a.webp").c_str(), VImage::option()->set("lossless", true));
  noise.heifsave(dir.File("a.heic").c_str(),
                 VImage::option()->set("lossless", true)->set("compression", VIPS_FOREIGN_HEIF_COMPRESSION_HEVC));
  for (std::string name : {"a.jpg", "a.webp", "a.heic"}) {
    const uint64_t limit = 40 * kKiB;
    ASSERT_GT(SizeOf(dir.File(name)), limit) << name;
    auto out = ShrinkToFit(dir.File(name), dir.File(name + "-small"), limit);
    ASSERT_TRUE(out.ok()) << name << ": " << out.error().message;
    EXPECT_EQ(out->ext, "jpg") << name;
    EXPECT_LE(out->bytes, limit) << name;
    EXPECT_EQ(SniffFile(out->path).format, "jpeg") << name;
  }
}

TEST(ShrinkTest, AnAnimatedGifKeepsItsFrames) {
  TempDir dir("shrink");
  const std::string in = dir.File("anim.gif");
  std::vector<VImage> frames;
  for (int i = 0; i < 4; ++i) frames.push_back(Noise(240, 180, 3));
  VImage strip = VImage::arrayjoin(frames, VImage::option()->set("across", 1));
  strip.set("page-height", 180);
  strip.gifsave(in.c_str());
  const uint64_t limit = 60 * kKiB;
  ASSERT_GT(SizeOf(in), limit);
  auto out = ShrinkToFit(in, dir.File("small"), limit);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->ext, "gif");
  EXPECT_LE(out->bytes, limit);
  VImage back = VImage::new_from_file((out->path + "[n=-1]").c_str());
  EXPECT_EQ(vips_image_get_n_pages(back.get_image()), 4);
  EXPECT_LT(back.width(), 240);
}

TEST(ShrinkTest, WhatIsNotAnImageOrAVideoIsRefused) {
  TempDir dir("shrink");
  const std::string in = dir.File("doc.pdf");
  std::ofstream(in) << "%PDF-1.7 " << std::string(10000, 'x');
  auto out = ShrinkToFit(in, dir.File("small"), 1000);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().kind, ErrorKind::kRejected);
  EXPECT_NE(out.error().message.find("only images"), std::string::npos);
}

TEST(ShrinkTest, ADamagedImageFailsWithoutNamingOurPaths) {
  TempDir dir("shrink");
  const std::string in = dir.File("broken.jpg");
  std::ofstream(in, std::ios::binary) << "\xFF\xD8\xFF\xE0" << std::string(5000, '\x42');
  auto out = ShrinkToFit(in, dir.File("small"), 1000);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_EQ(out.error().message.find(dir.File("")), std::string::npos) << out.error().message;
  EXPECT_EQ(out.error().message.find('\n'), std::string::npos);
}

TEST(ShrinkTest, AnImageOverThePixelBoundIsNotDecoded) {
  TempDir dir("shrink");
  const std::string in = dir.File("big.png");
  Noise(300, 200, 3).pngsave(in.c_str());
  auto out = ShrinkToFit(in, dir.File("small"), 1000, ShrinkLimits{.max_image_pixels = 50'000});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_NE(out.error().message.find("60000 pixels"), std::string::npos) << out.error().message;
}

// A 2-second 640×360 test pattern with noise and a tone, encoded nearly losslessly: large.
std::string MakeVideo(const TempDir& dir, const std::string& name) {
  const std::string path = dir.File(name);
  Run("ffmpeg -y -f lavfi -i testsrc2=size=640x360:rate=25,noise=alls=40:allf=t -f lavfi -i "
      "sine=frequency=440:sample_rate=44100 -t 2 -c:v libx264 -preset ultrafast -qp 4 -c:a aac "
      "-b:a 96k -shortest " + path);
  return path;
}

TEST(ShrinkTest, AVideoIsReencodedWithItsAudio) {
  TempDir dir("shrink");
  const std::string in = MakeVideo(dir, "clip.mp4");
  const uint64_t limit = 150 * kKiB;
  ASSERT_GT(SizeOf(in), 4 * limit);
  auto out = ShrinkToFit(in, dir.File("small"), limit);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->ext, "mp4");
  EXPECT_LE(out->bytes, limit);
  const std::string streams = Output("ffprobe -v error -show_entries stream=codec_name,width "
                                     "-of csv=p=0 " + out->path);
  EXPECT_NE(streams.find("h264"), std::string::npos) << streams;
  EXPECT_NE(streams.find("aac"), std::string::npos) << streams;
  const std::string duration =
      Output("ffprobe -v error -show_entries format=duration -of csv=p=0 " + out->path);
  EXPECT_NEAR(std::stod(duration), 2.0, 0.3);
}

TEST(ShrinkTest, AQuickTimeMovieBecomesAnMp4) {
  TempDir dir("shrink");
  const std::string in = MakeVideo(dir, "clip.mov");
  ASSERT_EQ(SniffFile(in).format, "mov");
  auto out = ShrinkToFit(in, dir.File("small"), 200 * kKiB);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(SniffFile(out->path).format, "mp4");
}

TEST(ShrinkTest, AVideoThatCannotFitIsRefusedAndLeavesNothing) {
  TempDir dir("shrink");
  const std::string in = MakeVideo(dir, "clip.mp4");
  auto out = ShrinkToFit(in, dir.File("small"), 10 * kKiB);  // 40 kb/s for sound and picture
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().kind, ErrorKind::kRejected);
  EXPECT_FALSE(std::filesystem::exists(dir.File("small.mp4")));
}

}  // namespace
}  // namespace bluegate::media
