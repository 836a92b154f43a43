#include "carriers/registry.h"

#include "carriers/smpp/smpp_carrier.h"

namespace bluegate::carriers {
namespace {

using Made = Result<std::unique_ptr<Carrier>>;

Result<Ok> CheckSim(const CarrierOptions& o) { return CheckCarrierOptions("sim", o); }

Made MakeSim(CarrierEnv& env, CarrierSink& sink, const CarrierOptions&, const std::string&) {
  return sim::MakeSimCarrier(env.io, sink, env.clock, env.sim);
}

// A carrier's options are good when its settings parser takes them.
template <auto Parse>
Result<Ok> ParsesAs(const CarrierOptions& o) {
  auto s = Parse(o);
  if (!s.ok()) return s.error();
  return Ok{};
}

Made MakeSmpp(CarrierEnv& env, CarrierSink& sink, const CarrierOptions& o,
              const std::string& line) {
  auto settings = smpp::ParseSmppSettings(o);
  if (!settings.ok()) return settings.error();
  return smpp::MakeSmppCarrier(env.io, sink, env.clock, std::move(settings).value(), line);
}

Made MakeBlueBubbles(CarrierEnv& env, CarrierSink& sink, const CarrierOptions& o,
                     const std::string& line) {
  auto settings = bluebubbles::ParseBlueBubblesSettings(o);
  if (!settings.ok()) return settings.error();
  return bluebubbles::MakeBlueBubblesCarrier(
      env.io, sink, env.clock, std::move(settings).value(), line,
      bluebubbles::HttpOver(env.server_http, env.media_http), env.public_url);
}

}  // namespace

const std::vector<CarrierKind>& CarrierKinds() {
  static const std::vector<CarrierKind> kinds{
      {"sim", CheckSim, MakeSim},
      {"smpp", ParsesAs<smpp::ParseSmppSettings>, MakeSmpp},
      {"bluebubbles", ParsesAs<bluebubbles::ParseBlueBubblesSettings>, MakeBlueBubbles},
  };
  return kinds;
}

Result<Ok> CheckLineOptions(std::string_view carrier, const CarrierOptions& options) {
  for (const auto& kind : CarrierKinds()) {
    if (kind.name == carrier) return kind.check(options);
  }
  return CheckCarrierOptions(carrier, options);  // says which carriers exist
}

Result<std::unique_ptr<Carrier>> MakeLineCarrier(std::string_view carrier, CarrierEnv& env,
                                                 CarrierSink& sink, const CarrierOptions& options,
                                                 const std::string& line) {
  for (const auto& kind : CarrierKinds()) {
    if (kind.name == carrier) return kind.make(env, sink, options, line);
  }
  return Error::Invalid("this build has no carrier \"" + std::string(carrier) + "\"");
}

}  // namespace bluegate::carriers
