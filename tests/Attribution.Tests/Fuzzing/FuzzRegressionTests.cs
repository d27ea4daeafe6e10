using System.Diagnostics;
using Attribution.Fuzz.Targets;

namespace Attribution.Tests.Fuzzing;

/// <summary>
/// The deterministic half of the fuzzing (fuzz/README.md): every checked-in corpus input and every crash found
/// so far (fuzz/corpus, fuzz/crashes) replayed through its target, then a fixed number of seeded mutations per
/// target. Nothing may escape but the documented bad-input outcomes (the targets catch those), and nothing may
/// run long: a hang fails the test instead of stalling the suite.
/// </summary>
public class FuzzRegressionTests
{
    /// <summary>Mutations per target: the span parsers take microseconds, the file readers about a millisecond (more on a loaded machine).</summary>
    private static readonly Dictionary<string, int> Mutations = new()
    {
        ["capture"] = 2_000, ["sidecar"] = 500, ["tracepoint-format"] = 5_000, ["proc-net"] = 5_000,
    };
    private const int DefaultMutations = 20_000;
    private static readonly TimeSpan SlowestInput = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan WholeTarget = TimeSpan.FromSeconds(120);

    public static TheoryData<string> Targets() => new(FuzzTargets.All.Select(t => t.Name));

    private static string Folder(string kind, string target) => Path.Combine(AppContext.BaseDirectory, "fuzz", kind, target);

    private static IEnumerable<string> Files(string kind, string target) =>
        Directory.Exists(Folder(kind, target)) ? Directory.GetFiles(Folder(kind, target)).Order() : [];

    [Fact]
    public void Every_target_has_a_corpus_and_every_crash_folder_a_target()
    {
        foreach (var target in FuzzTargets.All) Assert.NotEmpty(Files("corpus", target.Name));
        var crashes = Path.Combine(AppContext.BaseDirectory, "fuzz", "crashes");
        if (Directory.Exists(crashes))
            foreach (var dir in Directory.GetDirectories(crashes)) Assert.NotNull(FuzzTargets.Find(Path.GetFileName(dir)));
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Corpus_and_every_crash_found_so_far_replay_cleanly(string name)
    {
        var target = FuzzTargets.Find(name)!;
        var inputs = Files("corpus", name).Concat(Files("crashes", name)).Select(f => (f, File.ReadAllBytes(f)));
        RunBounded(target, inputs);
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Seeded_mutations_of_the_corpus_raise_nothing_undocumented(string name)
    {
        var target = FuzzTargets.Find(name)!;
        var corpus = Files("corpus", name).Concat(Files("crashes", name)).Select(File.ReadAllBytes).ToList();
        var mutator = new Mutator(corpus, seed: 20261201);
        int count = Mutations.GetValueOrDefault(name, DefaultMutations);
        RunBounded(target, Enumerable.Range(0, count).Select(i => ($"mutation {i} (seed 20261201)", mutator.Next())));
    }

    /// <summary>Runs the inputs on a worker so that a hang fails the test; reports the first escaping exception with its input saved.</summary>
    private static void RunBounded(FuzzTarget target, IEnumerable<(string Name, byte[] Input)> inputs)
    {
        string? failure = null;
        var work = Task.Run(() =>
        {
            foreach (var (name, input) in inputs)
            {
                var watch = Stopwatch.StartNew();
                try { target.Run(input); }
                catch (Exception e)
                {
                    failure = $"{target.Name}: {name}: {e.GetType().Name}: {e.Message} (input saved to {Save(target.Name, input)})\n{e.StackTrace}";
                    return;
                }
                if (watch.Elapsed > SlowestInput)
                {
                    failure = $"{target.Name}: {name} took {watch.Elapsed.TotalSeconds:F1} s (input saved to {Save(target.Name, input)})";
                    return;
                }
            }
        });
        Assert.True(work.Wait(WholeTarget), $"{target.Name}: still running after {WholeTarget.TotalSeconds} s: a hang?");
        Assert.Null(failure);
    }

    private static string Save(string target, byte[] input)
    {
        var path = Path.Combine(Path.GetTempPath(), $"attribution-fuzz-failure-{target}-{Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(input))[..12]}");
        File.WriteAllBytes(path, input);
        return path;
    }
}
