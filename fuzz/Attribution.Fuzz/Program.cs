using System.Diagnostics;
using Attribution.Fuzz.Targets;
using SharpFuzz;

namespace Attribution.Fuzz;

/// <summary>
/// The fuzzing harness (fuzz/README.md). Under afl++ (fuzz/run.sh): <c>afl TARGET</c>, SharpFuzz's persistent
/// mode over the instrumented Core and Analyzer assemblies. Without it: <c>replay TARGET FILE|DIR...</c> runs
/// inputs once and names the first escaping exception; <c>mutate TARGET SECONDS CORPUS_DIR [SEED]</c> runs the
/// seeded coverage-less mutator; <c>seeds FIXTURES CORPUS</c> makes the corpus from tests/fixtures.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args is ["seeds", var fixtures, var corpus]) { SeedExtractor.Run(fixtures, corpus); return 0; }
        if (args.Length < 2 || FuzzTargets.Find(args[1]) is not { } target) return Usage();
        switch (args[0])
        {
            case "afl":
                Fuzzer.Run(stream =>
                {
                    using var copy = new MemoryStream();
                    stream.CopyTo(copy);
                    target.Run(copy.ToArray());
                });
                return 0;
            case "replay":
                return Replay(target, args[2..]);
            case "mutate" when args.Length >= 4 && int.TryParse(args[2], out int seconds):
                return Mutate(target, seconds, args[3], args.Length > 4 ? int.Parse(args[4]) : 1);
            default:
                return Usage();
        }
    }

    private static int Usage()
    {
        Console.Error.WriteLine("usage: Attribution.Fuzz afl|replay|mutate TARGET ... | seeds FIXTURES CORPUS\ntargets:");
        foreach (var t in FuzzTargets.All) Console.Error.WriteLine($"  {t.Name,-18} {t.Reads}");
        return 1;
    }

    private static IEnumerable<string> Inputs(IEnumerable<string> paths) =>
        paths.SelectMany<string, string>(p => Directory.Exists(p) ? Directory.GetFiles(p).Where(f => !Path.GetFileName(f).StartsWith('.') && !f.EndsWith(".md")).Order() : [p]);

    private static int Replay(FuzzTarget target, string[] paths)
    {
        int failed = 0, count = 0;
        foreach (var file in Inputs(paths))
        {
            count++;
            var watch = Stopwatch.StartNew();
            try { target.Run(File.ReadAllBytes(file)); }
            catch (Exception e)
            {
                failed++;
                Console.WriteLine($"{file}: {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
            }
            if (watch.ElapsedMilliseconds > 1000) Console.WriteLine($"{file}: slow: {watch.ElapsedMilliseconds} ms");
        }
        Console.WriteLine($"{target.Name}: {count} inputs replayed, {failed} failed");
        return failed == 0 ? 0 : 2;
    }

    private static int Mutate(FuzzTarget target, int seconds, string corpusDir, int seed)
    {
        var corpus = Inputs([corpusDir]).Select(File.ReadAllBytes).ToList();
        var mutator = new Mutator(corpus, seed);
        var watch = Stopwatch.StartNew();
        long executions = 0;
        var crashes = Path.Combine(Path.GetTempPath(), $"attribution-fuzz-{target.Name}-crashes");
        int found = 0;
        while (watch.Elapsed.TotalSeconds < seconds)
        {
            var input = mutator.Next();
            executions++;
            try { target.Run(input); }
            catch (Exception e)
            {
                Directory.CreateDirectory(crashes);
                var file = Path.Combine(crashes, $"{e.GetType().Name}-{executions}");
                File.WriteAllBytes(file, input);
                if (found++ < 5) Console.WriteLine($"{file}: {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
            }
        }
        Console.WriteLine($"{target.Name}: {executions} executions in {watch.Elapsed.TotalSeconds:F0} s, {found} crashes{(found > 0 ? " in " + crashes : "")}");
        return found == 0 ? 0 : 2;
    }
}
