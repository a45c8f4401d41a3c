namespace QuantBuild.Engine.Data;

/// <summary>Where an array lives: a file, or a member inside an archive, named the way error messages show it.</summary>
internal readonly record struct DataFileLocation(string FilePath, string? Member)
{
    public string Display => Member is null ? $"'{FilePath}'" : $"member '{Member}' of '{FilePath}'";
}
