using Xunit.Abstractions;

namespace Attribution.Tests.Support;

/// <summary>The analysis's containers table against what the runtime's own `ps` showed while the containers ran.</summary>
public static class ContainersTable
{
    /// <summary>
    /// Each of <paramref name="ids"/> must have the row (<paramref name="runtime"/>, the name and image `ps` showed), a
    /// removed container's too; each difference goes to <paramref name="failures"/>.
    /// </summary>
    public static void Check(string db, string runtime, Dictionary<string, (string Name, string Image)> ps, IEnumerable<string> ids,
        ITestOutputHelper output, List<string> failures)
    {
        var named = Db.Query(db, "SELECT id, runtime, name, image FROM containers").ToDictionary(r => (string)r[0]!, r => (Runtime: (string?)r[1], Name: (string?)r[2], Image: (string?)r[3]));
        foreach (var id in ids)
        {
            var shown = ps[id];
            var table = named.GetValueOrDefault(id);
            output.WriteLine($"{runtime} ps: {id[..12]} {shown.Name} {shown.Image}; containers table: {table.Runtime} {table.Name} {table.Image}");
            if (table != (runtime, shown.Name, shown.Image)) failures.Add($"{id[..12]}: the containers table says {table}, {runtime} ps showed {shown}");
        }
    }
}
