using System.CommandLine;
using Attribution.Bench;

// Deterministic benchmark inputs: a capture and its snapshot sidecar, with a given number of packets
// spread round-robin over a given number of concurrent flows; and a Parquet file as text. See bench/README.md.
var packets = new Option<long>("--packets") { Description = "Packets to write", DefaultValueFactory = _ => 1_000_000 };
var flows = new Option<int>("--flows") { Description = "Concurrent flows (each lives the whole capture)", DefaultValueFactory = _ => 10_000 };
var link = new Option<string>("--link") { Description = "sll2 or ethernet", DefaultValueFactory = _ => "sll2" };
var snaplen = new Option<int>("--snaplen") { Description = "Bytes kept per packet (wire lengths stay realistic)", DefaultValueFactory = _ => 96 };
var output = new Option<string>("--output", "-o") { Description = "Capture to write; the sidecar goes beside it", Required = true };
link.AcceptOnlyFromAmong("sll2", "ethernet");
var generate = new Command("generate", "Write a synthetic capture and matching snapshots") { packets, flows, link, snaplen, output };
generate.SetAction(parse =>
{
    var spec = new SyntheticSpec(parse.GetValue(packets), parse.GetValue(flows), parse.GetValue(link) == "ethernet", parse.GetValue(snaplen));
    SyntheticRecording.Write(spec, parse.GetValue(output)!);
    return 0;
});

// For scripts/same-outputs.sh: a Parquet file as text (metadata, schema, statistics, rows), to compare two outputs
// whose bytes differ only by a value the script masks.
var parquetFile = new Argument<string>("file") { Description = "Parquet file to print" };
var parquetText = new Command("parquet-text", "Print a Parquet file as text, read by DuckDB") { parquetFile };
parquetText.SetAction(parse =>
{
    try
    {
        ParquetText.Write(parse.GetValue(parquetFile)!, Console.Out);
        return 0;
    }
    catch (DuckDB.NET.Data.DuckDBException e)
    {
        // A damaged or foreign file: one line, which the comparing script shows in its diff.
        Console.Out.Flush();
        Console.Error.WriteLine($"parquet-text: {e.Message}");
        return 2;
    }
});
return new RootCommand("Attribution benchmark tools") { generate, parquetText }.Parse(args).Invoke();
