using static Attribution.Analyzer.Output.Parquet.ParquetColumns;

namespace Attribution.Analyzer.Output.Parquet;

public sealed partial class ParquetSink
{
    /// <summary>The columns of processes that say what it ran (<see cref="ProcessExecutable"/>), as SQLite's.</summary>
    private sealed class ExecutableColumns
    {
        private readonly ParquetColumn<ReadOnlyMemory<char>> _sha256 = Text("exe_sha256"), _note = Text("exe_hash_note"), _source = Text("exe_source");
        private readonly ParquetColumn<long> _deleted = Integer("exe_deleted", true), _memfd = Integer("exe_memfd", true);

        public ParquetColumn[] Columns => [_sha256, _deleted, _memfd, _note, _source];

        public void Add(ProcessExecutable x)
        {
            _sha256.Add(x.Sha256); _deleted.Add(x.Deleted); _memfd.Add(x.Memfd); _note.Add(x.Note); _source.Add(x.Source);
        }
    }
}
