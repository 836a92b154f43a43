extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
}

#include <algorithm>
#include <filesystem>
#include <memory>

#include "media/codecs.h"

namespace bluegate::media {
namespace {

constexpr uint64_t kLargestFrame = 8192ull * 4320;  // 8K: more is a decompression bomb
constexpr int64_t kLowestVideoBitrate = 64'000;      // below this nothing is watchable
constexpr int kAttempts = 3;

std::string AvError(int code) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, buf, sizeof buf);
  return buf;
}

struct CloseInput {
  void operator()(AVFormatContext* c) const { avformat_close_input(&c); }
};
struct FreeOutput {
  void operator()(AVFormatContext* c) const {
    if (c->pb) avio_closep(&c->pb);
    avformat_free_context(c);
  }
};
struct FreeCodec {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct FreeFrame {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct FreePacket {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct FreeScaler {
  void operator()(SwsContext* s) const { sws_freeContext(s); }
};
using Input = std::unique_ptr<AVFormatContext, CloseInput>;
using Output = std::unique_ptr<AVFormatContext, FreeOutput>;
using Codec = std::unique_ptr<AVCodecContext, FreeCodec>;
using Frame = std::unique_ptr<AVFrame, FreeFrame>;
using Packet = std::unique_ptr<AVPacket, FreePacket>;

Error Damaged(const std::string& what, int code) {
  return Error::Invalid("the video cannot be read: " + what + " (" + AvError(code) + ")");
}

Result<Input> OpenInput(const std::string& path) {
  AVFormatContext* raw = nullptr;
  if (int rc = avformat_open_input(&raw, path.c_str(), nullptr, nullptr); rc < 0) {
    return Damaged("not a container FFmpeg knows", rc);
  }
  Input in(raw);
  if (int rc = avformat_find_stream_info(in.get(), nullptr); rc < 0) {
    return Damaged("no stream information", rc);
  }
  return in;
}

// What decides the plan: the picture's size, the length, and the audio that is copied.
struct Facts {
  int width = 0;
  int height = 0;
  double seconds = 0;
  bool copy_audio = false;
  int64_t audio_bitrate = 0;
};

bool CopyableAudio(const AVCodecParameters* p) {
  return p->codec_id == AV_CODEC_ID_AAC || p->codec_id == AV_CODEC_ID_MP3;
}

Result<Facts> Examine(const std::string& path, const ShrinkLimits& limits) {
  auto in = OpenInput(path);
  if (!in.ok()) return in.error();
  AVFormatContext* ic = in->get();
  const int v = av_find_best_stream(ic, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (v < 0) return Error{ErrorKind::kRejected, "the file holds no video stream", {}, {}};
  Facts f;
  f.width = ic->streams[v]->codecpar->width;
  f.height = ic->streams[v]->codecpar->height;
  if (f.width <= 0 || f.height <= 0 ||
      static_cast<uint64_t>(f.width) * static_cast<uint64_t>(f.height) > kLargestFrame) {
    return Error::Invalid("the video's frames are " + std::to_string(f.width) + "x" +
                          std::to_string(f.height) + ", outside what this server decodes");
  }
  if (ic->duration != AV_NOPTS_VALUE && ic->duration > 0) {
    f.seconds = static_cast<double>(ic->duration) / AV_TIME_BASE;
  } else if (ic->streams[v]->duration > 0) {
    f.seconds = static_cast<double>(ic->streams[v]->duration) * av_q2d(ic->streams[v]->time_base);
  }
  if (f.seconds <= 0) return Error::Invalid("the video's duration cannot be told");
  if (f.seconds > limits.max_video_seconds) {
    return Error{ErrorKind::kRejected,
                 "the video lasts " + std::to_string(static_cast<int>(f.seconds)) +
                     " s, over the " + std::to_string(static_cast<int>(limits.max_video_seconds)) +
                     " s that can be made to fit",
                 {}, {}};
  }
  const int a = av_find_best_stream(ic, AVMEDIA_TYPE_AUDIO, -1, v, nullptr, 0);
  if (a >= 0 && CopyableAudio(ic->streams[a]->codecpar)) {
    f.copy_audio = true;
    f.audio_bitrate = ic->streams[a]->codecpar->bit_rate > 0 ? ic->streams[a]->codecpar->bit_rate
                                                             : 128'000;
  }
  return f;
}

struct Plan {
  int width = 0;
  int height = 0;
  int64_t bitrate = 0;  // the video's, in bits per second
};

// The widest picture the bitrate carries well, never wider than the source; even sides.
Plan PlanFor(const Facts& f, int64_t bitrate) {
  int width = bitrate >= 2'500'000 ? 1280 : bitrate >= 1'000'000 ? 854 : bitrate >= 500'000 ? 640
                                                                                             : 426;
  width = std::min(width, f.width);
  int height = static_cast<int>(static_cast<int64_t>(f.height) * width / f.width);
  return Plan{std::max(2, width & ~1), std::max(2, height & ~1), bitrate};
}

// One pass: decode the source's video, scale it, encode it as H.264; copy the audio packets.
class Transcoder {
 public:
  Transcoder(Input in, const Facts& facts) : in_(std::move(in)), facts_(facts) {}

  Result<uint64_t> Run(const std::string& out_path, const Plan& plan);

 private:
  Result<Ok> OpenDecoder();
  Result<Ok> OpenOutput(const std::string& out_path, const Plan& plan);
  Result<Ok> Decoded(bool flush);
  Result<Ok> Encode(AVFrame* frame);

  Input in_;
  Facts facts_;
  int v_ = -1;
  int a_ = -1;
  Codec dec_;
  Codec enc_;
  Output out_;
  AVStream* vs_ = nullptr;
  AVStream* as_ = nullptr;
  std::unique_ptr<SwsContext, FreeScaler> scaler_;
  int64_t last_pts_ = AV_NOPTS_VALUE;
};

Result<Ok> Transcoder::OpenDecoder() {
  AVFormatContext* ic = in_.get();
  v_ = av_find_best_stream(ic, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  const AVCodec* codec = avcodec_find_decoder(ic->streams[v_]->codecpar->codec_id);
  if (!codec) return Error{ErrorKind::kRejected, "its video codec cannot be decoded here", {}, {}};
  dec_.reset(avcodec_alloc_context3(codec));
  avcodec_parameters_to_context(dec_.get(), ic->streams[v_]->codecpar);
  dec_->thread_count = 1;
  if (int rc = avcodec_open2(dec_.get(), codec, nullptr); rc < 0) return Damaged("decoder", rc);
  if (facts_.copy_audio) a_ = av_find_best_stream(ic, AVMEDIA_TYPE_AUDIO, -1, v_, nullptr, 0);
  return Ok{};
}

Result<Ok> Transcoder::OpenOutput(const std::string& out_path, const Plan& plan) {
  AVFormatContext* raw = nullptr;
  avformat_alloc_output_context2(&raw, nullptr, "mp4", out_path.c_str());
  if (!raw) return Error::Internal("FFmpeg has no MP4 muxer");
  out_.reset(raw);
  const AVCodec* codec = avcodec_find_encoder_by_name("libx264");
  if (!codec) codec = avcodec_find_encoder(AV_CODEC_ID_H264);
  if (!codec) return Error::Internal("FFmpeg has no H.264 encoder");
  enc_.reset(avcodec_alloc_context3(codec));
  AVStream* ist = in_->streams[v_];
  AVRational fps = av_guess_frame_rate(in_.get(), ist, nullptr);
  if (fps.num <= 0 || fps.den <= 0) fps = AVRational{30, 1};
  enc_->width = plan.width;
  enc_->height = plan.height;
  enc_->pix_fmt = AV_PIX_FMT_YUV420P;
  enc_->time_base = av_inv_q(fps);
  enc_->framerate = fps;
  enc_->bit_rate = plan.bitrate;
  enc_->rc_max_rate = plan.bitrate * 3 / 2;
  enc_->rc_buffer_size = static_cast<int>(std::min<int64_t>(plan.bitrate * 2, INT32_MAX));
  enc_->gop_size = std::max(1, fps.num / std::max(1, fps.den)) * 5;
  enc_->thread_count = 1;
  enc_->profile = FF_PROFILE_H264_MAIN;
  av_opt_set(enc_->priv_data, "preset", "veryfast", 0);
  if (out_->oformat->flags & AVFMT_GLOBALHEADER) enc_->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  if (int rc = avcodec_open2(enc_.get(), codec, nullptr); rc < 0) {
    return Error::Internal("the H.264 encoder would not open: " + AvError(rc));
  }
  vs_ = avformat_new_stream(out_.get(), nullptr);
  avcodec_parameters_from_context(vs_->codecpar, enc_.get());
  vs_->time_base = enc_->time_base;
  // A phone's portrait video is stored sideways with a rotation to show it by: keep it.
  size_t size = 0;
  if (const uint8_t* matrix = av_stream_get_side_data(ist, AV_PKT_DATA_DISPLAYMATRIX, &size);
      matrix && size == 9 * sizeof(int32_t)) {
    if (uint8_t* copy = av_stream_new_side_data(vs_, AV_PKT_DATA_DISPLAYMATRIX, size)) {
      std::copy(matrix, matrix + size, copy);
    }
  }
  if (a_ >= 0) {
    as_ = avformat_new_stream(out_.get(), nullptr);
    avcodec_parameters_copy(as_->codecpar, in_->streams[a_]->codecpar);
    as_->codecpar->codec_tag = 0;
    as_->time_base = in_->streams[a_]->time_base;
  }
  if (int rc = avio_open(&out_->pb, out_path.c_str(), AVIO_FLAG_WRITE); rc < 0) {
    return Error::Storage("cannot write the compressed video: " + AvError(rc));
  }
  if (int rc = avformat_write_header(out_.get(), nullptr); rc < 0) {
    return Error::Internal("the MP4 header could not be written: " + AvError(rc));
  }
  return Ok{};
}

Result<Ok> Transcoder::Encode(AVFrame* frame) {
  if (frame) {
    // The same scaler while the frames keep their size and format (a new one when they change).
    scaler_.reset(sws_getCachedContext(scaler_.release(), frame->width, frame->height,
                                       static_cast<AVPixelFormat>(frame->format), enc_->width,
                                       enc_->height, enc_->pix_fmt, SWS_BICUBIC, nullptr, nullptr,
                                       nullptr));
    if (!scaler_) return Error::Invalid("the video's frames cannot be scaled");
    Frame scaled(av_frame_alloc());
    scaled->format = enc_->pix_fmt;
    scaled->width = enc_->width;
    scaled->height = enc_->height;
    if (av_frame_get_buffer(scaled.get(), 0) < 0) return Error::Internal("out of memory");
    sws_scale(scaler_.get(), frame->data, frame->linesize, 0, frame->height, scaled->data,
              scaled->linesize);
    const int64_t ts = frame->best_effort_timestamp;
    int64_t pts = ts == AV_NOPTS_VALUE
                      ? AV_NOPTS_VALUE
                      : av_rescale_q(ts, in_->streams[v_]->time_base, enc_->time_base);
    if (pts == AV_NOPTS_VALUE || (last_pts_ != AV_NOPTS_VALUE && pts <= last_pts_)) {
      pts = last_pts_ == AV_NOPTS_VALUE ? 0 : last_pts_ + 1;  // never backwards, never twice
    }
    last_pts_ = pts;
    scaled->pts = pts;
    if (int rc = avcodec_send_frame(enc_.get(), scaled.get()); rc < 0) {
      return Error::Internal("the encoder refused a frame: " + AvError(rc));
    }
  } else {
    avcodec_send_frame(enc_.get(), nullptr);
  }
  Packet pkt(av_packet_alloc());
  while (avcodec_receive_packet(enc_.get(), pkt.get()) == 0) {
    av_packet_rescale_ts(pkt.get(), enc_->time_base, vs_->time_base);
    pkt->stream_index = vs_->index;
    if (int rc = av_interleaved_write_frame(out_.get(), pkt.get()); rc < 0) {
      return Error::Storage("cannot write the compressed video: " + AvError(rc));
    }
  }
  return Ok{};
}

Result<Ok> Transcoder::Decoded(bool flush) {
  Frame frame(av_frame_alloc());
  for (;;) {
    const int rc = avcodec_receive_frame(dec_.get(), frame.get());
    if (rc == AVERROR(EAGAIN)) return Ok{};
    if (rc == AVERROR_EOF) break;
    if (rc < 0) return Damaged("a frame", rc);
    if (auto e = Encode(frame.get()); !e.ok()) return e;
    av_frame_unref(frame.get());
  }
  if (flush) return Encode(nullptr);
  return Ok{};
}

Result<uint64_t> Transcoder::Run(const std::string& out_path, const Plan& plan) {
  if (auto r = OpenDecoder(); !r.ok()) return r.error();
  if (auto r = OpenOutput(out_path, plan); !r.ok()) return r.error();
  Packet pkt(av_packet_alloc());
  while (av_read_frame(in_.get(), pkt.get()) >= 0) {
    if (pkt->stream_index == v_) {
      // A damaged packet is skipped, as players do; a file of nothing but is caught below.
      if (avcodec_send_packet(dec_.get(), pkt.get()) >= 0) {
        if (auto r = Decoded(false); !r.ok()) return r.error();
      }
    } else if (as_ && pkt->stream_index == a_) {
      av_packet_rescale_ts(pkt.get(), in_->streams[a_]->time_base, as_->time_base);
      pkt->stream_index = as_->index;
      pkt->pos = -1;
      if (int rc = av_interleaved_write_frame(out_.get(), pkt.get()); rc < 0) {
        return Error::Storage("cannot write the compressed video: " + AvError(rc));
      }
    }
    av_packet_unref(pkt.get());
  }
  avcodec_send_packet(dec_.get(), nullptr);
  if (auto r = Decoded(true); !r.ok()) return r.error();
  if (last_pts_ == AV_NOPTS_VALUE) return Error::Invalid("the video has no frame that decodes");
  if (int rc = av_write_trailer(out_.get()); rc < 0) {
    return Error::Storage("cannot finish the compressed video: " + AvError(rc));
  }
  avio_closep(&out_->pb);
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(out_path, ec);
  if (ec) return Error::Storage("cannot read back the compressed video");
  return static_cast<uint64_t>(bytes);
}

}  // namespace

Result<Shrunk> ShrinkVideo(const std::string& in, const Sniffed& what, const std::string& out_stem,
                           uint64_t limit, const ShrinkLimits& limits) {
  av_log_set_level(AV_LOG_QUIET);  // its errors come back as values, with their text
  auto facts = Examine(in, limits);
  if (!facts.ok()) return facts.error();
  // 90 % of the limit for the streams: the container and the encoder's overshoot take the rest.
  const double budget_bits = static_cast<double>(limit) * 8 * 0.9;
  const double audio_bits = static_cast<double>(facts->audio_bitrate) * facts->seconds;
  auto bitrate = static_cast<int64_t>((budget_bits - audio_bits) / facts->seconds);
  const std::string out_path = out_stem + ".mp4";
  uint64_t bytes = 0;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    if (bitrate < kLowestVideoBitrate) break;
    const Plan plan = PlanFor(*facts, bitrate);
    auto input = OpenInput(in);
    if (!input.ok()) return input.error();
    auto made = Transcoder(std::move(*input), *facts).Run(out_path, plan);
    if (!made.ok()) {
      std::error_code ec;
      std::filesystem::remove(out_path, ec);
      return made.error();
    }
    bytes = *made;
    if (bytes <= limit) {
      return Shrunk{out_path, "mp4", bytes,
                    "h264 " + std::to_string(plan.bitrate / 1000) + " kb/s " +
                        std::to_string(plan.width) + "x" + std::to_string(plan.height) +
                        (facts->copy_audio ? " with its audio" : " without audio") + " from " +
                        what.format + " " + std::to_string(facts->width) + "x" +
                        std::to_string(facts->height) + ", " +
                        std::to_string(static_cast<int>(facts->seconds)) + " s"};
    }
    bitrate = static_cast<int64_t>(static_cast<double>(bitrate) * static_cast<double>(limit) /
                                   static_cast<double>(bytes) * 0.9);
  }
  std::error_code ec;
  std::filesystem::remove(out_path, ec);
  return Error{ErrorKind::kRejected,
               "the video lasts " + std::to_string(static_cast<int>(facts->seconds)) +
                   " s: at the bitrate that would fit, nothing watchable is left" +
                   (bytes ? " (the last try made " + std::to_string(bytes) + " bytes)" : ""),
               {}, {}};
}

}  // namespace bluegate::media
