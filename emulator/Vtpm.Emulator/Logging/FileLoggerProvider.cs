using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Vtpm.Emulator.Logging;

/// <summary>swtpm's --log file=|fd=: one line per message, flushed at once, with an optional prefix.</summary>
public sealed class FileLoggerProvider(TextWriter writer, string? prefix) : ILoggerProvider
{
    readonly ConcurrentDictionary<string, Logger> _loggers = new();
    readonly object _lock = new();

    public ILogger CreateLogger(string categoryName) => _loggers.GetOrAdd(categoryName, _ => new Logger(this));

    void Write(LogLevel level, string message, Exception? e)
    {
        lock (_lock)
        {
            writer.Write(prefix);
            writer.Write(DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture));
            writer.Write(' ');
            writer.Write(level switch
            {
                LogLevel.Trace => "trce",
                LogLevel.Debug => "dbug",
                LogLevel.Information => "info",
                LogLevel.Warning => "warn",
                LogLevel.Error => "fail",
                _ => "crit",
            });
            writer.Write(": ");
            writer.WriteLine(message);
            if (e is not null) writer.WriteLine(e);
            writer.Flush();
        }
    }

    public void Dispose()
    {
        lock (_lock) writer.Dispose();
    }

    sealed class Logger(FileLoggerProvider owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) owner.Write(logLevel, formatter(state, exception), exception);
        }
    }
}
