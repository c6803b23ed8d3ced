/* 16550 UART on COM1, polled. */
#ifndef SERIAL_H
#define SERIAL_H

void serial_init(void);
void serial_puts(const char *s);

#endif
