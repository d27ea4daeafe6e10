using Attribution.Analyzer.Evidence;
using static Attribution.Analyzer.Output.Parquet.ParquetColumns;

namespace Attribution.Analyzer.Output.Parquet;

public sealed partial class ParquetSink
{
    /// <summary>The columns of processes that say who started it (<see cref="ProcessLineage"/>), as SQLite's.</summary>
    private sealed class LineageColumns
    {
        private readonly ParquetColumn<long> _parent = Integer("parent_id", true), _loginUid = Integer("loginuid", true), _sessionId = Integer("sessionid", true);
        private readonly ParquetColumn<ReadOnlyMemory<char>> _user = Text("user"), _loginUser = Text("login_user"), _unit = Text("unit"), _chain = Text("chain");

        public ParquetColumn[] Columns => [_parent, _loginUid, _sessionId, _user, _loginUser, _unit, _chain];

        public void Add(ProcessLineage l)
        {
            _parent.Add(l.ParentId); _loginUid.Add(l.LoginUid); _sessionId.Add(l.SessionId);
            _user.Add(l.User); _loginUser.Add(l.LoginUser); _unit.Add(l.Unit); _chain.Add(l.Chain);
        }
    }

    /// <summary>process_ancestry, a view in SQLite: every process with each ancestor, depth 1 its parent.</summary>
    private void WriteAncestry(ProcessTable processes)
    {
        ParquetColumn<long> process = Integer("process_id"), depth = Integer("depth"), ancestor = Integer("ancestor_id");
        var table = Open("process_ancestry", process, depth, ancestor);
        foreach (var (p, d, a) in ProcessLineage.Ancestry(processes))
        {
            process.Add(p); depth.Add(d); ancestor.Add(a);
            table.EndRow();
        }
        table.Close();
    }
}
