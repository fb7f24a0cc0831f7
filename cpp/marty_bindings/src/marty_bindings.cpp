// pybind11 bridge to MARTY: tree-level amplitudes and squared amplitudes as plain strings.
//
// Linked against MARTY (GPL-3.0-or-later), so this module is GPL-3.0-or-later too.
// Every entry point takes one global mutex (MARTY keeps global state and is not
// thread-safe), silences MARTY's progress output by swapping the rdbufs of
// std::cout/std::cerr/std::clog, and turns MARTY's enum-valued throws into
// Python exceptions (MartyError) that carry the message MARTY printed.

#include <marty.h>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace py = pybind11;

namespace {

std::mutex marty_mutex;

class MartyFailure : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Redirects the C++ standard streams into string buffers while alive.
class SilencedStreams {
  public:
    SilencedStreams()
        : old_out(std::cout.rdbuf(captured_out.rdbuf())),
          old_err(std::cerr.rdbuf(captured_err.rdbuf())),
          old_log(std::clog.rdbuf(captured_err.rdbuf()))
    {
    }
    ~SilencedStreams()
    {
        std::cout.rdbuf(old_out);
        std::cerr.rdbuf(old_err);
        std::clog.rdbuf(old_log);
    }
    SilencedStreams(SilencedStreams const &)            = delete;
    SilencedStreams &operator=(SilencedStreams const &) = delete;

    std::string stdout_text() const { return captured_out.str(); }
    std::string stderr_text() const { return captured_err.str(); }

  private:
    std::ostringstream captured_out;
    std::ostringstream captured_err;
    std::streambuf    *old_out;
    std::streambuf    *old_err;
    std::streambuf    *old_log;
};

// MARTY prints "<ErrorType> in function f() (file ...): message" to std::cerr
// right before throwing the bare enum value: keep the last non-empty line.
std::string last_line(std::string const &text)
{
    std::istringstream in(text);
    std::string        line, last;
    while (std::getline(in, line))
        if (line.find_first_not_of(" \t\r") != std::string::npos)
            last = line;
    return last;
}

std::string describe_failure(std::string const &kind,
                             std::string const &what,
                             SilencedStreams const &streams)
{
    std::string message = last_line(streams.stderr_text());
    if (message.empty())
        message = what;
    return "MARTY " + kind + ": " + message;
}

// Runs fn under the mutex with silenced streams; MARTY errors become MartyFailure.
template <class Fn>
auto guarded(Fn &&fn) -> decltype(fn())
{
    std::lock_guard<std::mutex> lock(marty_mutex);
    SilencedStreams             streams;
    try {
        return fn();
    }
    catch (mty::error::Type err) {
        std::ostringstream name;
        name << err;
        throw MartyFailure(describe_failure(name.str(), "", streams));
    }
    catch (CSLError err) {
        std::ostringstream name;
        name << err;
        throw MartyFailure(describe_failure(name.str(), "", streams));
    }
    catch (MartyFailure const &) {
        throw;
    }
    catch (std::exception const &exc) {
        throw MartyFailure(describe_failure("exception", exc.what(), streams));
    }
    catch (...) {  // MARTY also throws other bare values; never let one escape into Python
        throw MartyFailure(describe_failure("error", "unknown exception", streams));
    }
}

std::string print_expr(csl::Expr const &expr)
{
    std::ostringstream out;
    out << csl::Evaluated(expr, csl::eval::abbreviation);
    return out.str();
}

struct FermionSpec {
    std::string      name;
    std::string      mass;
    std::vector<int> charge;  // {numerator, denominator} in units of e; unused in QCD
};

const std::vector<FermionSpec> leptons = {
    {"e", "m_e", {-1, 1}}, {"mu", "m_mu", {-1, 1}}, {"ta", "m_tau", {-1, 1}}};
const std::vector<FermionSpec> quarks = {{"u", "m_u", {2, 3}},
                                         {"d", "m_d", {-1, 3}},
                                         {"s", "m_s", {-1, 3}},
                                         {"c", "m_c", {2, 3}},
                                         {"b", "m_b", {-1, 3}},
                                         {"t", "m_t", {2, 3}}};

// QED: U(1) "em" with coupling e, charged Dirac fermions, photon "A".
std::unique_ptr<mty::Model> build_qed()
{
    auto model = std::make_unique<mty::Model>();
    model->addGaugedGroup(mty::group::Type::U1, "em", csl::constant_s("e"));
    model->init();
    std::vector<FermionSpec> fermions = leptons;
    fermions.insert(fermions.end(), quarks.begin(), quarks.end());
    for (auto const &spec : fermions) {
        mty::Particle f = mty::diracfermion_s(spec.name, *model);
        f->setGroupRep("em", spec.charge);
        f->setMass(csl::constant_s(spec.mass));
        model->addParticle(f);
    }
    model->renameParticle("A_em", "A");
    model->computeFeynmanRules();
    return model;
}

// QCD: SU(3) "C" with coupling g, quarks in the triplet, gluon "G".
std::unique_ptr<mty::Model> build_qcd()
{
    auto model = std::make_unique<mty::Model>();
    model->addGaugedGroup(mty::group::Type::SU, "C", 3, csl::constant_s("g"));
    model->init();
    for (auto const &spec : quarks) {
        mty::Particle f = mty::diracfermion_s(spec.name, *model);
        f->setGroupRep("C", {1, 0});
        f->setMass(csl::constant_s(spec.mass));
        model->addParticle(f);
    }
    model->renameParticle("A_C", "G");
    model->computeFeynmanRules();
    return model;
}

// Models live for the whole process: MARTY objects refer to them globally.
mty::Model &get_model(std::string const &theory)
{
    static std::map<std::string, std::unique_ptr<mty::Model>> models;
    auto pos = models.find(theory);
    if (pos == models.end()) {
        std::unique_ptr<mty::Model> built;
        if (theory == "qed")
            built = build_qed();
        else if (theory == "qcd")
            built = build_qcd();
        else
            throw MartyFailure("unknown theory '" + theory
                               + "'; the MARTY bridge knows qed and qcd");
        pos = models.emplace(theory, std::move(built)).first;
    }
    mty::Model::current = pos->second.get();
    return *pos->second;
}

// A leg is (MARTY field name, is_antiparticle).
using Leg = std::pair<std::string, bool>;

std::vector<mty::Insertion> make_insertions(mty::Model           &model,
                                            std::vector<Leg> const &incoming,
                                            std::vector<Leg> const &outgoing)
{
    std::vector<mty::Insertion> insertions;
    auto add = [&](Leg const &leg, bool is_incoming) {
        mty::Insertion ins(model.getParticle(leg.first));
        ins = is_incoming ? mty::Incoming(ins) : mty::Outgoing(ins);
        if (leg.second)
            ins = mty::AntiPart(ins);
        insertions.push_back(ins);
    };
    for (auto const &leg : incoming)
        add(leg, true);
    for (auto const &leg : outgoing)
        add(leg, false);
    return insertions;
}

py::dict compute(std::string const      &theory,
                 std::vector<Leg> const &incoming,
                 std::vector<Leg> const &outgoing,
                 bool                    diagram_squares,
                 bool                    process_square)
{
    struct Diagram {
        std::string              amplitude;
        std::string              squared;
        std::vector<std::string> mediators;
    };
    struct Result {
        std::vector<Diagram> diagrams;
        std::string          squared;
    };
    Result result = guarded([&]() {
        Result          res;
        mty::Model     &model      = get_model(theory);
        auto            insertions = make_insertions(model, incoming, outgoing);
        mty::Amplitude  ampl = model.computeAmplitude(mty::Order::TreeLevel, insertions);
        auto const     &diagrams = ampl.getDiagrams();
        for (size_t i = 0; i != diagrams.size(); ++i) {
            Diagram d;
            d.amplitude = print_expr(diagrams[i].getExpression());
            for (auto const &p : diagrams[i].getParticles(mty::FeynmanDiagram::Mediator))
                d.mediators.push_back(std::string(p->getName()));
            if (diagram_squares) {
                mty::Amplitude single(ampl.getOptions(),
                                      std::vector<mty::FeynmanDiagram>{diagrams[i]},
                                      ampl.getKinematics());
                d.squared = print_expr(model.computeSquaredAmplitude(single, true));
            }
            res.diagrams.push_back(std::move(d));
        }
        if (process_square && !diagrams.empty())
            res.squared = print_expr(model.computeSquaredAmplitude(ampl, true));
        return res;
    });
    py::list diagrams;
    for (auto const &d : result.diagrams) {
        py::dict entry;
        entry["amplitude"] = d.amplitude;
        entry["squared"]   = d.squared;
        entry["mediators"] = d.mediators;
        diagrams.append(entry);
    }
    py::dict out;
    out["diagrams"] = diagrams;
    out["squared"]  = result.squared;
    return out;
}

// Forces a MARTY error on purpose, so that tests can check the translation.
void provoke_error(std::string const &theory)
{
    guarded([&]() {
        get_model(theory).getParticle("no_such_particle");
        return 0;
    });
}

// Prints through MARTY's own std::cout/std::cerr, to test the silencing.
std::string print_model(std::string const &theory)
{
    return guarded([&]() {
        mty::Model &model = get_model(theory);
        std::cout << model << std::endl;
        std::cerr << "stderr from MARTY's side" << std::endl;
        std::ostringstream text;
        text << model;
        return text.str();
    });
}

}  // namespace

PYBIND11_MODULE(_marty, m)
{
    m.doc() = "In-process bridge to MARTY (GPL-3.0-or-later); returns plain strings.";
    py::register_exception<MartyFailure>(m, "MartyError", PyExc_RuntimeError);
    m.def("compute",
          &compute,
          py::arg("theory"),
          py::arg("incoming"),
          py::arg("outgoing"),
          py::arg("diagram_squares") = true,
          py::arg("process_square")  = true,
          "Tree-level diagrams of a process. Legs are (MARTY field name, is_antiparticle).\n"
          "Returns {'diagrams': [{'amplitude', 'squared', 'mediators'}], 'squared'}.");
    m.def("provoke_error", &provoke_error, py::arg("theory"));
    m.def("print_model", &print_model, py::arg("theory"));
}
