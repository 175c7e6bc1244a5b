"""Downloads of the signed-in user's data as files: entries (CSV, JSON, Markdown), one insight
(Markdown, PDF), and the private iCalendar feed of their entries. The downloads are served,
authorised, limited and streamed by graph/export.py `ExportDownloads`; this package says
what each one reads and how it is written."""
